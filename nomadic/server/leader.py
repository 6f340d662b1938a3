"""Leader duties: what only the Raft leader runs, started and stopped with leadership.

On gaining leadership (Nomad's ``establishLeadership``): enable the eval broker, blocked
evals and plan queue; refill them from the evaluations in state; start the plan applier
the node drainer and the deployment watcher;
give every live node the failover heartbeat TTL; start the reapers that mark evals which
exhausted their delivery limit as failed (with a delayed follow-up eval) and cancel evals
made redundant by newer ones; restore the periodic dispatcher (which catches up, once, a
launch missed during the change). On losing it, all of that stops and is dropped.

FSM notifications (evaluations upserted, capacity freed) arrive here on the event loop and
are routed to the broker and the blocked-evals tracker while this server leads.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Protocol

import msgspec

from nomadic.state.entries import EvalUpdateRequest, Payload
from nomadic.state.snapshot import Snapshot
from nomadic.state.store import StateStore
from nomadic.structs import Evaluation
from nomadic.structs.consts import (
    EVAL_STATUS_BLOCKED,
    EVAL_STATUS_CANCELLED,
    EVAL_STATUS_COMPLETE,
    EVAL_STATUS_FAILED,
    EVAL_STATUS_PENDING,
    NODE_STATUS_DOWN,
    SECOND,
    TRIGGER_FAILED_FOLLOW_UP,
)
from nomadic.structs.ids import new_id

from .blocked_evals import BlockedEvals
from .broker import FAILED_QUEUE, EvalBroker
from .deployment_watcher import DeploymentWatcher
from .drainer import NodeDrainer
from .endpoints.base import now_ns
from .heartbeat import Heartbeater
from .periodic import PeriodicDispatch
from .plan_apply import PlanApplier
from .plan_queue import PlanQueue

__all__ = ["LeaderDuties"]

log = logging.getLogger(__name__)

FAILED_FOLLOWUP_BASELINE = 60 * SECOND  # EvalFailedFollowupBaselineDelay
FAILED_FOLLOWUP_RANGE = 5 * 60 * SECOND  # EvalFailedFollowupDelayRange
CANCEL_REAP_INTERVAL = 1.0  # seconds


class LeaderHost(Protocol):
    store: StateStore
    broker: EvalBroker
    blocked: BlockedEvals
    plan_queue: PlanQueue
    heartbeater: Heartbeater
    periodic: PeriodicDispatch

    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...


class LeaderDuties:
    def __init__(
        self,
        host: LeaderHost,
        applier: PlanApplier,
        deployment_watcher: DeploymentWatcher | None = None,
    ) -> None:
        self._host = host
        self._applier = applier
        self._deployment_watcher = deployment_watcher
        self._tasks: list[asyncio.Task[None]] = []
        self.active = False

    def establish(self) -> None:
        h = self._host
        log.info("cluster leadership acquired")
        self.active = True
        h.broker.set_enabled(True)
        h.blocked.set_enabled(True)
        h.plan_queue.set_enabled(True)
        snap = h.snapshot()
        for ev in snap.evals():
            self._route(ev)
        h.heartbeater.initialize([n.id for n in snap.nodes() if n.status != NODE_STATUS_DOWN])
        self._tasks = [
            asyncio.ensure_future(self._applier.run()),
            asyncio.ensure_future(self._reap_failed()),
            asyncio.ensure_future(self._reap_cancelable()),
            asyncio.ensure_future(NodeDrainer(h).run()),
        ]
        if self._deployment_watcher is not None:
            self._tasks.append(asyncio.ensure_future(self._deployment_watcher.run()))
        h.periodic.start()
        self._tasks.append(asyncio.ensure_future(h.periodic.restore()))

    async def revoke(self) -> None:
        if not self.active:
            return
        log.info("cluster leadership lost")
        self.active = False
        h = self._host
        h.plan_queue.set_enabled(False)
        h.broker.set_enabled(False)
        h.blocked.set_enabled(False)
        h.heartbeater.clear_all()
        await h.periodic.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- FSM notifications (on the loop) ------------------------------------------------

    def on_evals(self, evals: list[Evaluation]) -> None:
        if self.active:
            for ev in evals:
                self._route(ev)

    def on_jobs(self, keys: list[tuple[str, str]]) -> None:
        if self.active:
            self._host.periodic.on_jobs(keys)

    def on_capacity(self, index: int, classes: frozenset[str] = frozenset()) -> None:
        if self.active:
            self._host.blocked.unblock(index, classes)

    def _route(self, ev: Evaluation) -> None:
        if ev.status == EVAL_STATUS_PENDING:
            self._host.broker.enqueue(ev)
        elif ev.status == EVAL_STATUS_BLOCKED:
            self._host.blocked.block(ev)
        elif ev.status == EVAL_STATUS_COMPLETE and not ev.failed_tg_allocs:
            self._host.blocked.untrack(ev.namespace, ev.job_id, keep_eval_id=ev.id)

    # -- reapers ------------------------------------------------------------------------

    async def _reap_failed(self) -> None:
        """Evals past the delivery limit: mark failed, follow up after 1-6 minutes."""
        broker = self._host.broker
        while True:
            got = await broker.dequeue([FAILED_QUEUE], 1.0)
            if got is None:
                continue
            ev, token = got
            now = now_ns()
            failed = msgspec.structs.replace(
                ev,
                status=EVAL_STATUS_FAILED,
                status_description=(
                    f"evaluation reached delivery limit ({broker.config.delivery_limit})"
                ),
                modify_time=now,
            )
            delay = FAILED_FOLLOWUP_BASELINE + int(random.random() * FAILED_FOLLOWUP_RANGE)
            followup = msgspec.structs.replace(
                ev,
                id=new_id(),
                status=EVAL_STATUS_PENDING,
                status_description="",
                triggered_by=TRIGGER_FAILED_FOLLOW_UP,
                previous_eval=ev.id,
                wait_until=now + delay,
                create_time=now,
                modify_time=now,
            )
            failed = msgspec.structs.replace(failed, next_eval=followup.id)
            try:
                await self._host.apply(EvalUpdateRequest(evals=[failed, followup]))
                broker.ack(ev.id, token)
            except Exception:
                log.exception(
                    "eval %s: could not mark failed",
                    ev.id,
                    extra={"eval_id": ev.id, "job_id": ev.job_id},
                )
                broker.nack(ev.id, token)

    async def _reap_cancelable(self) -> None:
        """Evals superseded by a newer one for the same job: mark canceled."""
        while True:
            await asyncio.sleep(CANCEL_REAP_INTERVAL)
            evals = self._host.broker.take_cancelable() + self._host.blocked.take_duplicates()
            if not evals:
                continue
            now = now_ns()
            canceled = [
                msgspec.structs.replace(
                    ev,
                    status=EVAL_STATUS_CANCELLED,
                    status_description="canceled after more recent eval was processed",
                    modify_time=now,
                )
                for ev in evals
            ]
            try:
                await self._host.apply(EvalUpdateRequest(evals=canceled))
            except Exception:
                log.exception("canceling %d superseded evals failed", len(canceled))
