"""DeploymentWatcher: the leader duty that moves running deployments along (Nomad's
``nomad/deploymentwatcher``).

The state store counts placed, healthy and unhealthy allocations into each deployment as
clients report health; the watcher reacts to those counts on every state change (and once a
second, for deadlines):

    an allocation became healthy      -> a deployment-watcher eval: the scheduler places the
                                         next max_parallel batch, or marks the deployment
                                         successful once every group is healthy
    an allocation is unhealthy        -> failed "Failed due to unhealthy allocations"
    RequireProgressBy passed          -> failed "Failed due to progress deadline"
    failed with auto_revert           -> the job's latest stable version is registered again
    canaries healthy and auto_promote -> promoted

Only ``running`` deployments are watched: paused, pending (multiregion, not started yet) and
blocked ones wait for a user or the multiregion coordinator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from nomadic.state.entries import DeploymentPromoteRequest, EvalUpdateRequest, Payload
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Deployment
from nomadic.structs import deployment as dep

from .endpoints.base import now_ns
from .endpoints.deployment import Revert, deployment_eval, fail_deployment

__all__ = ["DeploymentWatcher"]

log = logging.getLogger(__name__)

DEADLINE_CHECK_INTERVAL = 1.0  # seconds between checks when nothing changes


class WatcherHost(Protocol):
    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...

    def is_leader(self) -> bool: ...


class DeploymentWatcher:
    def __init__(self, host: WatcherHost, revert: Revert) -> None:
        self._host = host
        self._revert = revert
        # deployment ID -> healthy allocations last seen (an increase creates an eval)
        self._healthy: dict[str, int] = {}

    async def run(self) -> None:
        """Until cancelled (leadership lost). A new leader evaluates every running deployment
        once, so a health change its predecessor did not act on is not lost."""
        snap = self._host.snapshot()
        first = [d for d in snap.deployments() if d.status == dep.DEPLOYMENT_STATUS_RUNNING]
        await self._create_evals(snap, first)
        self._healthy = {d.id: _healthy(d) for d in first}
        seen_index, checked_at = -1, 0.0
        while True:
            snap = self._host.snapshot()
            # health counts live in the deployments table: other writes change nothing here,
            # except the clock (deadlines), checked once a second
            index = snap.table_index("deployments")
            if index != seen_index or time.monotonic() - checked_at >= DEADLINE_CHECK_INTERVAL:
                seen_index, checked_at = index, time.monotonic()
                try:
                    await self.check(snap, time.time_ns())
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("deployment watcher: check failed; retrying")
            await self._host.wait_for_index(snap.latest_index(), DEADLINE_CHECK_INTERVAL)

    async def check(self, snap: Snapshot, now: int) -> None:
        """One pass over the running deployments (tests call it with a fixed ``now``)."""
        progressed: list[Deployment] = []
        for d in snap.deployments():
            if d.status != dep.DEPLOYMENT_STATUS_RUNNING:
                self._healthy.pop(d.id, None)
                continue
            if any(s.unhealthy_allocs > 0 for s in d.task_groups.values()):
                await self._fail(d, dep.DEPLOYMENT_DESC_FAILED_ALLOCS)
                continue
            deadline = progress_cutoff(d)
            if deadline and now > deadline:
                await self._fail(d, dep.DEPLOYMENT_DESC_PROGRESS_DEADLINE)
                continue
            if await self._auto_promote(snap, d):
                continue
            healthy = _healthy(d)
            if healthy > self._healthy.get(d.id, 0):
                progressed.append(d)
            self._healthy[d.id] = healthy
        await self._create_evals(snap, progressed)

    async def _fail(self, d: Deployment, desc: str) -> None:
        log.info("deployment failed: %s", desc, extra={"deployment_id": d.id, "job_id": d.job_id})
        self._healthy.pop(d.id, None)
        await fail_deployment(self._host, self._revert, d, desc)

    async def _auto_promote(self, snap: Snapshot, d: Deployment) -> bool:
        waiting = {
            name: s
            for name, s in d.task_groups.items()
            if s.desired_canaries > 0 and not s.promoted
        }
        if not waiting or not all(s.auto_promote for s in waiting.values()):
            return False
        for state in waiting.values():
            healthy = 0
            for alloc_id in state.placed_canaries:
                alloc = snap.alloc_by_id(alloc_id)
                status = alloc.deployment_status if alloc is not None else None
                healthy += 1 if status is not None and status.is_healthy() else 0
            if healthy < state.desired_canaries:
                return False
        log.info("canaries healthy: promoting", extra={"deployment_id": d.id})
        ev = deployment_eval(snap, d)
        await self._host.apply(
            DeploymentPromoteRequest(deployment_id=d.id, all=True, updated_at=now_ns(), eval=ev)
        )
        return True

    async def _create_evals(self, snap: Snapshot, deployments: list[Deployment]) -> None:
        evals = [ev for d in deployments if (ev := deployment_eval(snap, d)) is not None]
        if evals:
            await self._host.apply(EvalUpdateRequest(evals=evals))


def _healthy(d: Deployment) -> int:
    return sum(s.healthy_allocs for s in d.task_groups.values())


def progress_cutoff(d: Deployment) -> int:
    """The earliest RequireProgressBy of the groups still in progress (0: none)."""
    cutoff = 0
    for state in d.task_groups.values():
        done = state.healthy_allocs >= state.desired_total and not (
            state.desired_canaries > 0 and not state.promoted
        )
        if done or not state.require_progress_by:
            continue
        if not cutoff or state.require_progress_by < cutoff:
            cutoff = state.require_progress_by
    return cutoff
