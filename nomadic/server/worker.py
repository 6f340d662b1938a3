"""Scheduler workers: dequeue an evaluation, schedule it on a snapshot, ack or nack.

Nomad's ``nomad/worker.go``. Each worker loops on the broker; for an eval it waits until the
local state has applied the eval's index, takes an O(1) snapshot and runs the scheduler (pure,
CPU-bound) in a thread. The scheduler talks back through :class:`WorkerPlanner`, whose calls
block that thread while the event loop does the work: ``submit_plan`` waits on the leader's
plan queue (the nack timer paused meanwhile) and hands back a fresher snapshot after a partial
commit; eval updates go through Raft. A scheduler that raises makes the worker Nack, so the
broker redelivers the eval (and fails it after the delivery limit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import msgspec

from nomadic.errors import NotFoundError, RaftError
from nomadic.scheduler.interfaces import Planner, Scheduler, State
from nomadic.state.entries import EvalUpdateRequest, Payload
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Evaluation, Plan, PlanResult
from nomadic.telemetry import default_sink

from .broker import EvalBroker
from .endpoints.base import now_ns

__all__ = ["SchedulerFactory", "Worker", "WorkerPlanner", "default_scheduler_factory"]

log = logging.getLogger(__name__)

SchedulerFactory = Callable[[str, State, Planner], Scheduler]
T = TypeVar("T")

DEQUEUE_TIMEOUT = 0.5  # seconds, Nomad's dequeueTimeout
RAFT_SYNC_LIMIT = 5.0  # seconds to wait for the local state to reach an eval's index
PLAN_TIMEOUT = 120.0  # seconds a scheduler thread waits for its plan's outcome


def default_scheduler_factory(eval_type: str, state: State, planner: Planner) -> Scheduler:
    """``nomadic.scheduler.new_scheduler``, imported when first needed."""
    from nomadic.scheduler import new_scheduler

    return new_scheduler(eval_type, state, planner)


class WorkerHost(Protocol):
    broker: EvalBroker

    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...

    async def submit_plan(self, plan: Plan) -> PlanResult: ...


class Worker:
    def __init__(
        self,
        host: WorkerHost,
        factory: SchedulerFactory,
        schedulers: list[str],
        worker_id: int = 0,
    ) -> None:
        self._host = host
        self._factory = factory
        self.schedulers = schedulers
        self.worker_id = worker_id

    async def run(self) -> None:
        """Loop until cancelled."""
        while True:
            start = time.monotonic()
            got = await self._host.broker.dequeue(self.schedulers, DEQUEUE_TIMEOUT)
            if got is None:
                continue
            default_sink.measure_since("nomad.nomad.worker.dequeue_eval", start)
            ev, token = got
            ids = {"eval_id": ev.id, "job_id": ev.job_id}
            log.debug("dequeued evaluation", extra={**ids, "triggered_by": ev.triggered_by})
            ok = await self._process(ev, token)
            log.debug("evaluation processed", extra={**ids, "ok": ok})
            try:
                start = time.monotonic()
                if ok:
                    self._host.broker.ack(ev.id, token)
                    default_sink.measure_since("nomad.nomad.worker.send_ack", start)
                else:
                    self._host.broker.nack(ev.id, token)
            except Exception as exc:  # leadership changed under us: the new leader redelivers
                log.info(
                    "eval %s: ack/nack dropped: %s",
                    ev.id,
                    exc,
                    extra={"eval_id": ev.id, "job_id": ev.job_id},
                )

    async def _process(self, ev: Evaluation, token: str) -> bool:
        start = time.monotonic()
        index = await self._host.wait_for_index(ev.modify_index - 1, RAFT_SYNC_LIMIT)
        default_sink.measure_since("nomad.nomad.worker.wait_for_index", start)
        if index < ev.modify_index:
            log.warning(
                "eval %s: state did not reach index %d; nacking",
                ev.id,
                ev.modify_index,
                extra={"eval_id": ev.id, "job_id": ev.job_id},
            )
            return False
        snap = self._host.snapshot()
        planner = WorkerPlanner(self._host, ev, token, asyncio.get_running_loop(), snap)
        try:
            sched = self._factory(ev.type, snap, planner)
            start = time.monotonic()
            await asyncio.to_thread(sched.process, ev)
            default_sink.measure_since(f"nomad.nomad.worker.invoke_scheduler.{ev.type}", start)
        except Exception:
            log.exception(
                "eval %s (job %s): scheduler failed; nacking",
                ev.id,
                ev.job_id,
                extra={"eval_id": ev.id, "job_id": ev.job_id},
            )
            return False
        return True


class WorkerPlanner:
    """The scheduler's Planner; every method runs in the scheduler's thread and blocks it."""

    def __init__(
        self,
        host: WorkerHost,
        ev: Evaluation,
        token: str,
        loop: asyncio.AbstractEventLoop,
        snap: Snapshot,
    ) -> None:
        self._host = host
        self._eval = ev
        self._token = token
        self._loop = loop
        self._snapshot_index = snap.latest_index()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, State | None]:
        plan = msgspec.structs.replace(
            plan, eval_token=self._token, snapshot_index=self._snapshot_index
        )
        start = time.monotonic()
        result = self._call(self._submit(plan), PLAN_TIMEOUT)
        default_sink.measure_since("nomad.nomad.worker.submit_plan", start)
        if not result.refresh_index:
            return result, None
        wait = max(result.refresh_index, result.alloc_index)
        self._call(self._host.wait_for_index(wait - 1, RAFT_SYNC_LIMIT), RAFT_SYNC_LIMIT + 5)
        snap = self._host.snapshot()
        self._snapshot_index = snap.latest_index()
        return result, snap

    async def _submit(self, plan: Plan) -> PlanResult:
        broker = self._host.broker
        self._check_outstanding()
        broker.pause_nack_timeout(self._eval.id, self._token)
        try:
            return await self._host.submit_plan(plan)
        finally:
            broker.resume_nack_timeout(self._eval.id, self._token)

    def _check_outstanding(self) -> None:
        """Only the worker holding the eval's current token may write for it (Nomad's
        Eval.Update / Plan.Submit check): after a nack timeout another worker owns it."""
        if self._host.broker.outstanding(self._eval.id) != self._token:
            raise NotFoundError(
                f"evaluation {self._eval.id} is no longer held by this worker (nack timeout "
                "or leadership change); its result is dropped"
            )

    def update_eval(self, evaluation: Evaluation) -> None:
        start = time.monotonic()
        self._write_eval(evaluation)
        default_sink.measure_since("nomad.nomad.worker.update_eval", start)

    def create_eval(self, evaluation: Evaluation) -> None:
        start = time.monotonic()
        self._write_eval(evaluation)
        default_sink.measure_since("nomad.nomad.worker.create_eval", start)

    def reblock_eval(self, evaluation: Evaluation) -> None:
        start = time.monotonic()
        self._write_eval(evaluation)
        default_sink.measure_since("nomad.nomad.worker.reblock_eval", start)

    async def _apply_eval(self, ev: Evaluation) -> int:
        self._check_outstanding()
        return await self._host.apply(EvalUpdateRequest(evals=[ev]))

    def _write_eval(self, evaluation: Evaluation) -> None:
        now = now_ns()
        ev = msgspec.structs.replace(
            evaluation,
            snapshot_index=self._snapshot_index,
            modify_time=now,
            create_time=evaluation.create_time or now,
        )
        try:
            self._call(self._apply_eval(ev), RAFT_SYNC_LIMIT * 4)
        except TimeoutError as exc:
            raise RaftError(f"eval {ev.id}: update not confirmed in time") from exc
