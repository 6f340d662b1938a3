"""NodeDrainer: the leader's duty that empties draining nodes (Nomad's ``nomad/drainer/``).

Each pass (on every state change, and at least every second for deadlines) looks at the
nodes with a drain strategy and decides, purely from a snapshot (:func:`drain_actions`):

    service allocs  -> mark DesiredTransition.Migrate, at most migrate.max_parallel per group
                       in flight (marked but not yet stopped, or replacements not yet running)
    batch allocs    -> left to finish; marked only once the deadline passes
    deadline passed -> every remaining alloc is marked
    system allocs   -> marked last, once nothing else is left on the node (kept running
                       with IgnoreSystemJobs)
    nothing left    -> drain complete: the strategy is cleared, the node stays ineligible

Marking is one Raft write (AllocDesiredTransitionUpdate) with a node-drain evaluation per
job; the job's scheduler then stops each marked alloc and places its replacement elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from nomadic.errors import NoLeaderError
from nomadic.state.entries import AllocDesiredTransitionUpdate, NodeUpdateDrain, Payload
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Allocation, DesiredTransition, Evaluation, Job, NodeEvent
from nomadic.structs.consts import (
    ALLOC_CLIENT_RUNNING,
    JOB_TYPE_BATCH,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
    SECOND,
    TRIGGER_NODE_DRAIN,
)

from .endpoints.base import new_eval

__all__ = ["DrainActions", "NodeDrainer", "drain_actions"]

log = logging.getLogger(__name__)

DRAIN_POLL_INTERVAL = 1.0  # seconds between passes when nothing changes (deadlines)
DRAIN_COMPLETE_MESSAGE = "Node drain complete"

GroupKey = tuple[str, str, str]  # namespace, job ID, task group


class DrainerHost(Protocol):
    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...


@dataclass
class DrainActions:
    """What one pass decided: allocs to mark for migration (with their jobs) and drained nodes."""

    migrate: list[Allocation] = field(default_factory=list)
    jobs: dict[tuple[str, str], Job] = field(default_factory=dict)
    complete: list[str] = field(default_factory=list)


def _is_system(alloc: Allocation) -> bool:
    return alloc.job is not None and alloc.job.type in (JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH)


def _is_batch(alloc: Allocation) -> bool:
    return alloc.job is not None and alloc.job.type == JOB_TYPE_BATCH


def _max_parallel(alloc: Allocation) -> int:
    job = alloc.job
    if job is None:
        return 1
    tg = job.lookup_task_group(alloc.task_group)
    strategy = (tg.migrate if tg is not None else None) or job.migrate
    return strategy.max_parallel if strategy is not None else 1


def _in_flight(snap: Snapshot, key: GroupKey) -> int:
    """Allocs of the group being migrated: marked but live, or replacements not yet running."""
    allocs = [a for a in snap.allocs_by_job(key[0], key[1]) if a.task_group == key[2]]
    marked = {a.id for a in allocs if a.desired_transition.migrate}
    count = sum(1 for a in allocs if a.id in marked and not a.terminal())
    count += sum(
        1
        for a in allocs
        if a.previous_allocation in marked
        and not a.terminal()
        and a.client_status != ALLOC_CLIENT_RUNNING
    )
    return count


def drain_actions(snap: Snapshot, now: int) -> DrainActions:
    """Decide one drainer pass over ``snap`` at Unix ns ``now`` (pure)."""
    actions = DrainActions()
    candidates: dict[GroupKey, list[Allocation]] = {}
    for node in snap.draining_nodes():
        strategy = node.drain_strategy
        if strategy is None:
            continue
        live = [a for a in snap.allocs_by_node(node.id) if not a.terminal()]
        others = [a for a in live if not _is_system(a)]
        system = [a for a in live if _is_system(a)]
        deadline = 0 < strategy.force_deadline <= now
        if deadline:
            _mark(actions, [a for a in others if not a.desired_transition.migrate])
        else:
            for alloc in others:
                if not alloc.desired_transition.migrate and not _is_batch(alloc):
                    key = (alloc.namespace, alloc.job_id, alloc.task_group)
                    candidates.setdefault(key, []).append(alloc)
        if not strategy.ignore_system_jobs and (deadline or not others):
            _mark(actions, [a for a in system if not a.desired_transition.migrate])
        remaining = others if strategy.ignore_system_jobs else live
        if not remaining:
            actions.complete.append(node.id)
    for key, allocs in sorted(candidates.items()):
        allowed = max(_max_parallel(allocs[0]) - _in_flight(snap, key), 0)
        _mark(actions, allocs[:allowed])
    for alloc in actions.migrate:
        job = snap.job_by_id(alloc.namespace, alloc.job_id) or alloc.job
        if job is not None and not job.stop:
            actions.jobs.setdefault((job.namespace, job.id), job)
    return actions


def _mark(actions: DrainActions, allocs: list[Allocation]) -> None:
    actions.migrate.extend(allocs)


class NodeDrainer:
    def __init__(
        self,
        host: DrainerHost,
        *,
        interval: float = DRAIN_POLL_INTERVAL,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._host = host
        self._interval = interval
        self._clock = clock

    async def run(self) -> None:
        """Until cancelled (leadership lost): a pass per state change, or per interval."""
        while True:
            snap = self._host.snapshot()
            try:
                await self.step(snap)
            except NoLeaderError:
                return
            except Exception:
                log.exception("node drainer pass failed; retrying")
            await self._host.wait_for_index(snap.latest_index(), self._interval)

    async def step(self, snap: Snapshot) -> None:
        now = self._clock()
        actions = drain_actions(snap, now)
        if actions.migrate:
            evals: list[Evaluation] = [
                new_eval(job, TRIGGER_NODE_DRAIN) for _, job in sorted(actions.jobs.items())
            ]
            log.info("drainer: migrating %d allocs, %d evals", len(actions.migrate), len(evals))
            await self._host.apply(
                AllocDesiredTransitionUpdate(
                    allocs={a.id: DesiredTransition(migrate=True) for a in actions.migrate},
                    evals=evals,
                )
            )
        for node_id in actions.complete:
            log.info("drainer: node %s drain complete", node_id)
            await self._host.apply(
                NodeUpdateDrain(
                    node_id=node_id,
                    drain_strategy=None,
                    mark_eligible=False,
                    updated_at=now,
                    event=_complete_event(now),
                )
            )


def _complete_event(now: int) -> NodeEvent:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now // SECOND))
    return NodeEvent(message=DRAIN_COMPLETE_MESSAGE, subsystem="Drain", timestamp=stamp)
