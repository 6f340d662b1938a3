"""Scheduler workers: dequeue an evaluation, schedule it on a snapshot, ack or nack.

Nomad's ``nomad/worker.go``. Workers run on every server. Each loop asks the host for the
current :class:`SchedulingLeader`: on the leader that is the in-process Eval/Plan endpoint, on
a follower a gRPC client of the leader's. With no known leader the worker pauses and asks
again, so a leader change costs a worker one failed call, never its loop.

For an eval the worker waits until its *local* state has applied the eval's index, takes an
O(1) snapshot and runs the scheduler (pure, CPU-bound) in a thread. The scheduler talks back
through :class:`WorkerPlanner`, whose calls block that thread while the event loop does the
work: ``submit_plan`` goes to the leader's plan queue and hands back a fresher snapshot after a
partial commit; eval updates are committed by the leader. Before acking, the worker waits for
its local state to reach everything it committed, so the next eval of the job is scheduled on
state that includes this one's plan. A scheduler that raises makes the worker Nack, so the
broker redelivers the eval (and fails it after the delivery limit).

    follower worker --Eval.Dequeue--> leader broker
        wait_for_index(eval) -> snapshot -> scheduler (thread) --Plan.Submit--> leader applier
        wait_for_index(plan commit) --Eval.Ack--> leader broker
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import msgspec

from nomadic.errors import NomadicError, RaftError
from nomadic.scheduler.interfaces import Planner, Scheduler, State
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Evaluation, Plan, PlanResult
from nomadic.telemetry import default_sink

from .endpoints.base import now_ns

__all__ = [
    "SchedulerFactory",
    "SchedulingLeader",
    "Worker",
    "WorkerPlanner",
    "default_scheduler_factory",
]

log = logging.getLogger(__name__)

SchedulerFactory = Callable[[str, State, Planner], Scheduler]
T = TypeVar("T")

DEQUEUE_TIMEOUT = 0.5  # seconds, Nomad's dequeueTimeout (in-process broker)
REMOTE_DEQUEUE_TIMEOUT = 2.0  # a follower's long-poll on the leader's broker
NO_LEADER_POLL = 0.05  # seconds between checks for a leader while none is known
FAILURE_BACKOFF = 0.1  # seconds a worker waits after a failed dequeue, doubling ...
FAILURE_BACKOFF_MAX = 2.0  # ... up to this
RAFT_SYNC_LIMIT = 5.0  # seconds to wait for the local state to reach an eval's index
PLAN_TIMEOUT = 120.0  # seconds a scheduler thread waits for its plan's outcome


def default_scheduler_factory(eval_type: str, state: State, planner: Planner) -> Scheduler:
    """``nomadic.scheduler.new_scheduler``, imported when first needed."""
    from nomadic.scheduler import new_scheduler

    return new_scheduler(eval_type, state, planner)


class SchedulingLeader(Protocol):
    """The leader's broker and plan queue, as a worker sees them (local or over gRPC)."""

    remote: bool

    async def dequeue(
        self, schedulers: list[str], timeout: float
    ) -> tuple[Evaluation, str, int] | None: ...

    async def ack(self, eval_id: str, token: str) -> None: ...

    async def nack(self, eval_id: str, token: str) -> None: ...

    async def update_evals(self, eval_id: str, token: str, evals: list[Evaluation]) -> int: ...

    async def submit_plan(self, plan: Plan) -> PlanResult: ...


class WorkerHost(Protocol):
    @property
    def name(self) -> str: ...

    def scheduling_leader(self) -> SchedulingLeader | None: ...

    def snapshot(self) -> Snapshot: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...


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
        self._paused = False
        self.processed = 0  # evals acked by this worker

    async def run(self) -> None:
        """Loop until cancelled."""
        backoff = FAILURE_BACKOFF
        while True:
            leader = self._host.scheduling_leader()
            if leader is None:  # a local check: poll it often, a new leader is worth a lot
                self._pause("no cluster leader")
                await asyncio.sleep(NO_LEADER_POLL)
                continue
            start = time.monotonic()
            try:
                got = await self._dequeue(leader)
            except NomadicError as exc:  # leader gone or unreachable: back off, ask again
                self._pause(f"dequeue failed: {exc}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, FAILURE_BACKOFF_MAX)
                continue
            backoff = FAILURE_BACKOFF
            self._resume()
            if got is not None:
                default_sink.measure_since("nomad.nomad.worker.dequeue_eval", start)
                await self._handle(leader, *got)

    async def _dequeue(self, leader: SchedulingLeader) -> tuple[Evaluation, str, int] | None:
        timeout = REMOTE_DEQUEUE_TIMEOUT if leader.remote else DEQUEUE_TIMEOUT
        return await leader.dequeue(self.schedulers, timeout)

    def _pause(self, why: str) -> None:
        if not self._paused:
            log.info("worker %d paused: %s", self.worker_id, why)
            self._paused = True

    def _resume(self) -> None:
        if self._paused:
            log.info("worker %d resumed", self.worker_id)
            self._paused = False

    async def _handle(
        self, leader: SchedulingLeader, ev: Evaluation, token: str, wait_index: int
    ) -> None:
        log.debug(
            "worker %d on %s: dequeued evaluation",
            self.worker_id,
            self._host.name,
            extra={"eval_id": ev.id, "job_id": ev.job_id, "type": ev.type, "remote": leader.remote},
        )
        planner = await self._process(leader, ev, token, wait_index)
        try:
            if planner is None:
                await leader.nack(ev.id, token)
                return
            if planner.commit_index:
                # the next eval of this job must see this one's plan in our state
                await self._host.wait_for_index(planner.commit_index - 1, RAFT_SYNC_LIMIT)
            start = time.monotonic()
            await leader.ack(ev.id, token)
            default_sink.measure_since("nomad.nomad.worker.send_ack", start)
        except NomadicError as exc:  # leadership changed under us: the new leader redelivers
            log.info(
                "eval %s: ack/nack dropped: %s",
                ev.id,
                exc,
                extra={"eval_id": ev.id, "job_id": ev.job_id},
            )
            return
        self.processed += 1
        log.debug(
            "worker %d on %s: acked evaluation",
            self.worker_id,
            self._host.name,
            extra={"eval_id": ev.id, "job_id": ev.job_id},
        )

    async def _process(
        self, leader: SchedulingLeader, ev: Evaluation, token: str, wait_index: int
    ) -> WorkerPlanner | None:
        start = time.monotonic()
        index = await self._host.wait_for_index(wait_index - 1, RAFT_SYNC_LIMIT)
        default_sink.measure_since("nomad.nomad.worker.wait_for_index", start)
        if index < wait_index:
            log.warning(
                "eval %s: state did not reach index %d; nacking",
                ev.id,
                wait_index,
                extra={"eval_id": ev.id, "job_id": ev.job_id},
            )
            return None
        snap = self._host.snapshot()
        planner = WorkerPlanner(self._host, leader, ev, token, asyncio.get_running_loop(), snap)
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
            return None
        return planner


class WorkerPlanner:
    """The scheduler's Planner; every method runs in the scheduler's thread and blocks it."""

    def __init__(
        self,
        host: WorkerHost,
        leader: SchedulingLeader,
        ev: Evaluation,
        token: str,
        loop: asyncio.AbstractEventLoop,
        snap: Snapshot,
    ) -> None:
        self._host = host
        self._leader = leader
        self._eval = ev
        self._token = token
        self._loop = loop
        self._snapshot_index = snap.latest_index()
        self.commit_index = 0  # the highest Raft index this eval's writes committed at

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, State | None]:
        plan = msgspec.structs.replace(
            plan, eval_token=self._token, snapshot_index=self._snapshot_index
        )
        start = time.monotonic()
        result = self._call(self._leader.submit_plan(plan), PLAN_TIMEOUT)
        default_sink.measure_since("nomad.nomad.worker.submit_plan", start)
        self.commit_index = max(self.commit_index, result.alloc_index)
        if not result.refresh_index:
            return result, None
        wait = max(result.refresh_index, result.alloc_index)
        self._call(self._host.wait_for_index(wait - 1, RAFT_SYNC_LIMIT), RAFT_SYNC_LIMIT + 5)
        snap = self._host.snapshot()
        self._snapshot_index = snap.latest_index()
        return result, snap

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

    def _write_eval(self, evaluation: Evaluation) -> None:
        now = now_ns()
        ev = msgspec.structs.replace(
            evaluation,
            snapshot_index=self._snapshot_index,
            modify_time=now,
            create_time=evaluation.create_time or now,
        )
        coro = self._leader.update_evals(self._eval.id, self._token, [ev])
        try:
            index = self._call(coro, RAFT_SYNC_LIMIT * 4)
        except TimeoutError as exc:
            raise RaftError(f"eval {ev.id}: update not confirmed in time") from exc
        self.commit_index = max(self.commit_index, index)
