"""The plan applier: the leader's single consumer of the plan queue.

Schedulers plan optimistically on snapshots; the applier is where their plans meet reality.
For every node a plan touches it re-checks, against the latest state plus the plan still being
committed (pipeline depth 1, as Nomad's default), that the node exists, is ready, and that
``allocs_fit`` the allocations it would hold. Nodes that fit are committed through Raft in one
``APPLY_PLAN_RESULTS`` entry; rejected nodes are left out and the result carries a
``RefreshIndex`` so the scheduler retries them on fresher state (partial commit). With
``AllAtOnce`` one rejection rejects the whole plan. Preempted allocations are evicted with the
placements that need their room (allocations already terminal are skipped), and each job that
loses one gets a ``preemption`` evaluation so it is placed elsewhere.

    worker --submit--> PlanQueue --> evaluate (thread) --> commit (raft) --> worker's future
                                       ^ overlaps the previous plan's commit
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec

from nomadic.errors import NoLeaderError
from nomadic.state.entries import ApplyPlanResults
from nomadic.state.snapshot import Snapshot
from nomadic.state.store import StateStore
from nomadic.structs import Allocation, Evaluation, Job, Plan, PlanResult
from nomadic.structs.consts import (
    EVAL_STATUS_PENDING,
    NODE_INELIGIBLE,
    NODE_STATUS_READY,
    TRIGGER_PREEMPTION,
)
from nomadic.structs.funcs import (
    DIMENSION_PORT_COLLISION,
    allocs_fit,
    exhausted_dimension,
    used_ports,
)
from nomadic.telemetry import default_sink

from .plan_queue import PendingPlan, PlanQueue

__all__ = ["PlanApplier", "evaluate_node_plan", "evaluate_plan", "preemption_evals"]

log = logging.getLogger(__name__)

Commit = Callable[[ApplyPlanResults], Awaitable[int]]


def evaluate_plan(snap: Snapshot, plan: Plan) -> PlanResult:
    """The part of ``plan`` that fits on ``snap``; rejected nodes listed, RefreshIndex set."""
    result = PlanResult()
    nodes = sorted({*plan.node_update, *plan.node_allocation, *plan.node_preemptions})
    for node_id in nodes:
        fit, reason = evaluate_node_plan(snap, plan, node_id)
        if not fit:
            log.debug(
                "plan for eval %s: node %s rejected: %s",
                plan.eval_id,
                node_id,
                reason,
                extra={"eval_id": plan.eval_id, "node_id": node_id},
            )
            result.rejected_nodes.append(node_id)
            if plan.all_at_once:  # nothing is committed, the deployment neither
                return PlanResult(rejected_nodes=nodes, refresh_index=snap.latest_index())
            continue
        for src, dst in (
            (plan.node_update, result.node_update),
            (plan.node_allocation, result.node_allocation),
        ):
            if src.get(node_id):
                dst[node_id] = list(src[node_id])
        preempted = [
            a
            for a in plan.node_preemptions.get(node_id, [])
            if (cur := snap.alloc_by_id(a.id)) is not None and not cur.terminal()
        ]
        if preempted:
            result.node_preemptions[node_id] = preempted
    if result.rejected_nodes:
        result.refresh_index = snap.latest_index()
    result.deployment = plan.deployment
    result.deployment_updates = list(plan.deployment_updates)
    return result


def evaluate_node_plan(snap: Snapshot, plan: Plan, node_id: str) -> tuple[bool, str]:
    """Whether the node can take what the plan puts on it (Nomad's evaluateNodePlan)."""
    placing = plan.node_allocation.get(node_id, [])
    if not placing:
        return True, ""  # evicting only always fits
    node = snap.node_by_id(node_id)
    if node is None:
        return False, "node does not exist"
    if node.status != NODE_STATUS_READY:
        return False, f"node is {node.status}"
    removing = [*plan.node_update.get(node_id, []), *plan.node_preemptions.get(node_id, [])]
    touched = [a for a in (*removing, *placing) if _live_on(snap, a.id, node_id)]
    if node.scheduling_eligibility == NODE_INELIGIBLE:
        live = {a.id for a in touched}
        if not all(a.id in live for a in placing):
            return False, "node is not eligible for new allocations"
    usage = snap.node_usage(node_id)
    devices = any(a.allocated_resources.device_ids() for a in placing)
    if touched or usage.with_ports or devices:
        # The plan replaces allocations already counted, or ports or device instances must be
        # compared: walk them.
        existing = [a for a in snap.allocs_by_node(node_id) if not a.terminal()]
        removed = {a.id for a in removing} | {a.id for a in placing}
        proposed = [a for a in existing if a.id not in removed] + placing
        return allocs_fit(node, proposed)
    # Fast path: the state's per-node totals plus the placements, no walk over the node.
    live_placing = [a for a in placing if not a.client_terminal()]
    dimension = exhausted_dimension(node, live_placing, (usage.cpu, usage.mem, usage.disk))
    if dimension:
        return False, dimension
    _, collision = used_ports(node, live_placing)
    if collision:
        return False, DIMENSION_PORT_COLLISION
    return True, ""


def _live_on(snap: Snapshot, alloc_id: str, node_id: str) -> bool:
    old = snap.alloc_by_id(alloc_id)
    return old is not None and old.node_id == node_id and not old.terminal()


def plan_results_entry(plan: Plan, result: PlanResult, now: int) -> ApplyPlanResults:
    """The Raft payload for the committed part of a plan; the leader stamps the times."""

    job = plan.job

    def stamp(allocs: list[Allocation], new: bool) -> list[Allocation]:
        out = []
        for a in allocs:
            fields: dict[str, object] = {"modify_time": now}
            if new and not a.create_time:
                fields["create_time"] = now
            if _same_job(a.job, job):
                fields["job"] = None  # sent once in the entry, not once per allocation
            out.append(msgspec.structs.replace(a, **fields))
        return out

    return ApplyPlanResults(
        eval_id=plan.eval_id,
        job=job,
        allocs_updated=[a for v in result.node_allocation.values() for a in stamp(v, True)],
        allocs_stopped=[a for v in result.node_update.values() for a in stamp(v, False)],
        allocs_preempted=[a for v in result.node_preemptions.values() for a in stamp(v, False)],
        evals=preemption_evals(result, now),
        deployment=result.deployment,
        deployment_updates=result.deployment_updates,
        updated_at=now,
    )


def preemption_evals(result: PlanResult, now: int) -> list[Evaluation]:
    """One pending ``preemption`` evaluation per job that lost allocations to this plan."""
    jobs: dict[tuple[str, str], Job] = {}
    for allocs in result.node_preemptions.values():
        for alloc in allocs:
            if alloc.job is not None:
                jobs.setdefault((alloc.namespace, alloc.job_id), alloc.job)
    return [
        Evaluation(
            id=str(uuid.uuid4()),
            namespace=job.namespace,
            priority=job.priority,
            type=job.type,
            triggered_by=TRIGGER_PREEMPTION,
            job_id=job.id,
            status=EVAL_STATUS_PENDING,
            create_time=now,
            modify_time=now,
        )
        for _, job in sorted(jobs.items())
    ]


class PlanApplier:
    """Evaluates and commits plans one at a time, overlapping evaluation with the last commit."""

    def __init__(self, queue: PlanQueue, store: StateStore, commit: Commit) -> None:
        self._queue = queue
        self._store = store
        self._commit = commit

    async def run(self) -> None:
        """Until the queue is disabled (leadership lost) or the task is cancelled."""
        inflight: tuple[asyncio.Task[int], ApplyPlanResults] | None = None
        try:
            while True:
                pending = await self._queue.dequeue()
                snap = self._store.snapshot()
                if inflight is not None and not inflight[0].done():
                    snap = _optimistic(snap, inflight[1])
                start = time.monotonic()
                result = await asyncio.to_thread(evaluate_plan, snap, pending.plan)
                default_sink.measure_since("nomad.nomad.plan.evaluate", start)
                _count_rejections(pending.plan, result)
                if inflight is not None:
                    failed = await _finished_with_error(inflight[0])
                    inflight = None
                    if failed:  # the state we checked against never happened: re-check
                        snap = self._store.snapshot()
                        result = await asyncio.to_thread(evaluate_plan, snap, pending.plan)
                inflight = self._start_commit(pending, result)
        except NoLeaderError:
            return
        finally:
            if inflight is not None:
                await _finished_with_error(inflight[0])

    def _start_commit(
        self, pending: PendingPlan, result: PlanResult
    ) -> tuple[asyncio.Task[int], ApplyPlanResults] | None:
        if not (
            result.node_update
            or result.node_allocation
            or result.node_preemptions
            or result.deployment is not None
            or result.deployment_updates
        ):
            pending.respond(result)
            return None
        entry = plan_results_entry(pending.plan, result, time.time_ns())
        task = asyncio.ensure_future(self._commit(entry))
        start = time.monotonic()

        def done(t: asyncio.Task[int]) -> None:
            default_sink.measure_since("nomad.nomad.plan.apply", start)
            if t.cancelled():
                pending.respond(None, NoLeaderError())
            elif (exc := t.exception()) is not None:
                pending.respond(None, exc)
            else:
                result.alloc_index = t.result()
                _log_placements(pending.plan, result)
                pending.respond(result)

        task.add_done_callback(done)
        return task, entry


def _log_placements(plan: Plan, result: PlanResult) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    for node_id, allocs in result.node_allocation.items():
        for alloc in allocs:
            log.debug(
                "allocation placed",
                extra={
                    "eval_id": plan.eval_id,
                    "job_id": alloc.job_id,
                    "alloc_id": alloc.id,
                    "node_id": node_id,
                },
            )


def _count_rejections(plan: Plan, result: PlanResult) -> None:
    """``nomad.nomad.plan.node_rejected``: nodes whose placements did not fit on re-check."""
    for node_id in plan.node_allocation:
        if node_id not in result.node_allocation:
            default_sink.incr_counter("nomad.nomad.plan.node_rejected", 1, {"node_id": node_id})


def _same_job(a: Job | None, b: Job | None) -> bool:
    if a is None or b is None:
        return False
    return a is b or (
        (a.namespace, a.id, a.version, a.job_modify_index)
        == (b.namespace, b.id, b.version, b.job_modify_index)
    )


def _optimistic(snap: Snapshot, inflight: ApplyPlanResults) -> Snapshot:
    """``snap`` with a plan that is still being committed already applied to it."""
    scratch = StateStore()
    scratch.restore(snap.tables)
    allocs = [*inflight.allocs_stopped, *inflight.allocs_preempted, *inflight.allocs_updated]
    scratch.upsert_allocs(snap.latest_index() + 1, allocs)
    return scratch.snapshot()


async def _finished_with_error(task: asyncio.Task[int]) -> bool:
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        raise
    except Exception:
        return True
    return False
