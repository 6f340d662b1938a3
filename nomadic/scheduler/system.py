"""SystemScheduler: one allocation per eligible node for system and sysbatch jobs.

Nomad's ``scheduler_system.go``:

    process(eval): load job -> ready nodes (job's datacenters and pool), not-ready nodes,
        tainted nodes -> diff_system_allocs (system_util.py)
      -> stop what is not needed, migrate (drainer-marked), lost (node down)
      -> updates: in place when the node still fits, else stop + place (destructive); with
         update { stagger, max_parallel } only max_parallel now, a rolling-update eval later
      -> place on each node that lacks its allocation, one node at a time through the
         SystemStack; a full node may evict lower-priority allocations (preemption)
      -> submit plan; partial commit: retry on fresher state (5 attempts, progress resets)
      -> eval complete, with a blocked eval when placements failed for lack of resources

A node that fails the job's constraints is not a failure: such nodes are only reported when
every node was filtered (Nomad PR #5631). sysbatch allocations run once per node: a
completed one is not placed again until the job changes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Final

import msgspec

from nomadic.structs import (
    AllocatedResources,
    AllocatedSharedResources,
    Allocation,
    AllocMetric,
    Evaluation,
    Job,
    Node,
    Plan,
    PlanResult,
)
from nomadic.structs.consts import (
    ALLOC_CLIENT_LOST,
    ALLOC_CLIENT_PENDING,
    ALLOC_DESIRED_EVICT,
    ALLOC_DESIRED_RUN,
    ALLOC_DESIRED_STOP,
    EVAL_STATUS_BLOCKED,
    EVAL_STATUS_COMPLETE,
    EVAL_STATUS_FAILED,
    EVAL_STATUS_PENDING,
    TRIGGER_QUEUED_ALLOCS,
    TRIGGER_ROLLING_UPDATE,
)

from .allocset import tainted_nodes
from .context import EvalContext
from .evals import blocked_eval, retry_max, with_status
from .feasible import ready_nodes_in_dcs_and_pool
from .generic import BLOCKED_EVAL_FAILED_PLACEMENTS, exhaust_resources
from .inplace import generic_alloc_update_fn
from .interfaces import Planner, State
from .reconcile import ALLOC_LOST, ALLOC_NOT_NEEDED, ALLOC_UPDATING, DesiredUpdates
from .stack import SelectOptions, SystemStack
from .system_util import AllocTuple, SystemDiff, diff_system_allocs
from .triggers import GENERIC_TRIGGERS

__all__ = ["ALLOC_NODE_TAINTED", "MAX_SYSTEM_SCHEDULE_ATTEMPTS", "SystemScheduler"]

MAX_SYSTEM_SCHEDULE_ATTEMPTS: Final = 5
ALLOC_NODE_TAINTED: Final = "alloc not needed as node is tainted"


class SystemScheduler:
    """Implements ``Scheduler`` for system (``sysbatch=False``) and sysbatch jobs."""

    def __init__(
        self,
        state: State,
        planner: Planner,
        *,
        sysbatch: bool,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.state = state
        self.planner = planner
        self.sysbatch = sysbatch
        self.clock = clock
        self.eval = Evaluation()
        self.job: Job | None = None
        self.plan = Plan()
        self.plan_result: PlanResult | None = None
        self.ctx = EvalContext(state, self.plan, "")
        self.stack = SystemStack(self.ctx, evict=False)
        self.nodes: list[Node] = []
        self.nodes_by_dc: dict[str, int] = {}
        self.blocked: Evaluation | None = None
        self.failed_tg_allocs: dict[str, AllocMetric] = {}
        self.queued_allocs: dict[str, int] = {}
        self.desired: dict[str, DesiredUpdates] = {}
        self.next_eval: Evaluation | None = None

    def process(self, evaluation: Evaluation) -> None:
        self.eval = evaluation
        if evaluation.triggered_by not in GENERIC_TRIGGERS:
            desc = f"scheduler cannot handle '{evaluation.triggered_by}' evaluation reason"
            self._set_status(EVAL_STATUS_FAILED, desc)
            return
        if not retry_max(self._attempt, lambda: self.plan_result, MAX_SYSTEM_SCHEDULE_ATTEMPTS):
            self._set_status(
                EVAL_STATUS_FAILED, f"maximum attempts reached ({MAX_SYSTEM_SCHEDULE_ATTEMPTS})"
            )
            return
        if evaluation.status == EVAL_STATUS_BLOCKED and self.failed_tg_allocs:
            self.planner.reblock_eval(
                msgspec.structs.replace(
                    evaluation,
                    escaped_computed_class=True,
                    failed_tg_allocs=self.failed_tg_allocs,
                    queued_allocations=self.queued_allocs,
                )
            )
            return
        self._set_status(EVAL_STATUS_COMPLETE, "")

    def _preemption_enabled(self) -> bool:
        preemption = self.state.scheduler_config().preemption_config
        if self.sysbatch:
            return preemption.sysbatch_scheduler_enabled
        return preemption.system_scheduler_enabled

    def _attempt(self) -> bool:
        ev = self.eval
        self.job = self.state.job_by_id(ev.namespace, ev.job_id)
        job = self.job
        stopped = job is None or job.stop
        self.queued_allocs = (
            {} if job is None or stopped else {tg.name: 0 for tg in job.task_groups}
        )
        self.failed_tg_allocs = {}
        self.desired = {}
        self.plan = Plan(
            eval_id=ev.id,
            priority=ev.priority,
            job=job,
            all_at_once=bool(job and job.all_at_once),
            snapshot_index=self.state.latest_index(),
        )
        self.ctx = EvalContext(self.state, self.plan, ev.id)
        self.stack = SystemStack(self.ctx, evict=self._preemption_enabled())
        self.nodes, self.nodes_by_dc = [], {}
        if job is not None and not stopped:
            self.stack.set_job(job)
            self.nodes, self.nodes_by_dc = ready_nodes_in_dcs_and_pool(
                self.state, job.datacenters, job.node_pool
            )
        self._compute_job_allocs()
        if ev.annotate_plan:
            self.plan.annotations = {tg: d.annotation() for tg, d in self.desired.items()}
        if (
            ev.status != EVAL_STATUS_BLOCKED
            and self.failed_tg_allocs
            and self.blocked is None
            and not ev.annotate_plan
        ):
            self._create_blocked_eval()
        if self.plan.is_noop() and not ev.annotate_plan:
            return True
        result, new_state = self.planner.submit_plan(self.plan)
        self.plan_result = result
        self._adjust_queued(result)
        if new_state is not None:
            self.state = new_state
            return False
        full, _, _ = result.full_commit(self.plan)
        return full

    def _desired(self, group: str) -> DesiredUpdates:
        return self.desired.setdefault(group, DesiredUpdates())

    def _compute_job_allocs(self) -> None:
        ev = self.eval
        allocs = self.state.allocs_by_job(ev.namespace, ev.job_id)
        tainted = tainted_nodes(self.state, allocs)
        not_ready = {n.id for n in self.state.nodes() if not n.ready()}
        live = [a for a in allocs if not a.terminal()]
        terminal = [a for a in allocs if a.terminal()]
        diff = diff_system_allocs(self.job, self.nodes, not_ready, tainted, live, terminal)
        self._stage_stops(diff)
        destructive = self._rolling_limit(self._inplace_updates(diff.update))
        for item in destructive:
            if item.alloc is not None and not item.alloc.terminal():
                self._stop(item.alloc, ALLOC_UPDATING)
            self._desired(item.task_group.name).destructive_update += 1
        for item in diff.ignore:
            self._desired(item.task_group.name).ignore += 1
        place = [*destructive, *diff.place]
        for item in diff.place:
            self._desired(item.task_group.name).place += 1
        if not place:
            return
        for item in place:
            name = item.task_group.name
            self.queued_allocs[name] = self.queued_allocs.get(name, 0) + 1
        self._compute_placements(place)

    def _rolling_limit(self, destructive: list[AllocTuple]) -> list[AllocTuple]:
        """With ``update { stagger, max_parallel }``, replace at most max_parallel allocs now
        and come back after the stagger for the rest (Nomad's rolling system update)."""
        job = self.job
        update = job.update if job is not None else None
        if update is None or update.stagger <= 0 or update.max_parallel <= 0:
            return destructive
        if len(destructive) <= update.max_parallel:
            return destructive
        if self.next_eval is None and not self.eval.annotate_plan:
            self.next_eval = self._rolling_eval(update.stagger)
        return destructive[: update.max_parallel]

    def _rolling_eval(self, stagger: int) -> Evaluation:
        ev = self.eval
        now = self.clock()
        followup = Evaluation(
            id=str(uuid.uuid4()),
            namespace=ev.namespace,
            priority=ev.priority,
            type=ev.type,
            triggered_by=TRIGGER_ROLLING_UPDATE,
            job_id=ev.job_id,
            job_modify_index=ev.job_modify_index,
            status=EVAL_STATUS_PENDING,
            previous_eval=ev.id,
            wait_until=now + stagger,
            create_time=now,
            modify_time=now,
        )
        self.planner.create_eval(followup)
        return followup

    def _stage_stops(self, diff: SystemDiff) -> None:
        for item in diff.stop:
            assert item.alloc is not None
            self._stop(item.alloc, ALLOC_NOT_NEEDED)
            self._desired(item.task_group.name).stop += 1
        for item in diff.migrate:
            assert item.alloc is not None
            self._stop(item.alloc, ALLOC_NODE_TAINTED)
            self._desired(item.task_group.name).migrate += 1
        for item in diff.lost:
            assert item.alloc is not None
            self._stop(item.alloc, ALLOC_LOST, ALLOC_CLIENT_LOST)
            self._desired(item.task_group.name).stop += 1

    def _inplace_updates(self, updates: list[AllocTuple]) -> list[AllocTuple]:
        """Apply what can be updated in place; return the destructive remainder."""
        if not updates or self.job is None:
            return []
        update_fn = generic_alloc_update_fn(self.ctx, self.stack, self.eval.id)
        destructive: list[AllocTuple] = []
        for item in updates:
            assert item.alloc is not None
            ignore, destroy, updated = update_fn(item.alloc, self.job, item.task_group)
            if destroy:
                destructive.append(item)
            elif updated is not None:
                self.plan.append_alloc(updated)
                self._desired(item.task_group.name).in_place_update += 1
            elif ignore:
                self._desired(item.task_group.name).ignore += 1
        return destructive

    def _stop(self, alloc: Allocation, desc: str, client_status: str = "") -> None:
        fields: dict[str, str] = {"desired_status": ALLOC_DESIRED_STOP, "desired_description": desc}
        if client_status:
            fields["client_status"] = client_status
        self.plan.append_stopped_alloc(msgspec.structs.replace(alloc, **fields))

    def _compute_placements(self, place: list[AllocTuple]) -> None:
        assert self.job is not None
        by_id = {n.id: n for n in self.nodes}
        filtered: dict[str, AllocMetric] = {}
        for missing in place:
            node = by_id.get(missing.node_id)
            if node is None:
                continue
            tg = missing.task_group
            self.stack.set_nodes([node])
            option = self.stack.select(tg, SelectOptions(alloc_name=missing.name))
            metrics = self.ctx.metrics
            metrics.nodes_available = dict(self.nodes_by_dc)
            metrics.nodes_in_pool = len(self.nodes)
            if option is None:
                self._placement_failed(missing, metrics, filtered)
                continue
            self.ctx.populate_score_meta_data()
            alloc = Allocation(
                id=str(uuid.uuid4()),
                namespace=self.job.namespace,
                eval_id=self.eval.id,
                name=missing.name,
                node_id=node.id,
                node_name=node.name,
                job_id=self.job.id,
                job=self.job,
                task_group=tg.name,
                allocated_resources=AllocatedResources(
                    tasks=option.task_resources,
                    shared=msgspec.structs.replace(
                        option.alloc_resources or AllocatedSharedResources(),
                        disk_mb=tg.ephemeral_disk.size_mb,
                    ),
                ),
                metrics=metrics,
                desired_status=ALLOC_DESIRED_RUN,
                client_status=ALLOC_CLIENT_PENDING,
            )
            prev = missing.alloc
            if prev is not None and prev.id and prev.node_id == node.id:
                alloc.previous_allocation = prev.id
            for victim in option.preempted_allocs:
                self.plan.node_preemptions.setdefault(node.id, []).append(
                    msgspec.structs.replace(
                        victim,
                        desired_status=ALLOC_DESIRED_EVICT,
                        desired_description=f"Preempted by alloc ID {alloc.id}",
                        preempted_by_allocation=alloc.id,
                    )
                )
                alloc.preempted_allocations.append(victim.id)
                self._desired(tg.name).preemptions += 1
            self.plan.append_alloc(alloc)

    def _placement_failed(
        self, missing: AllocTuple, metrics: AllocMetric, filtered: dict[str, AllocMetric]
    ) -> None:
        """Nomad's rule: a node filtered by constraints is not a failure unless all were."""
        tg = missing.task_group
        if metrics.nodes_filtered > 0:
            queued = self.queued_allocs.get(tg.name, 0) - 1
            self.queued_allocs[tg.name] = queued
            filtered[tg.name] = metrics
            desired = self.desired.get(tg.name)
            if desired is not None and desired.place > 0:
                desired.place -= 1
            if queued <= 0:
                self.failed_tg_allocs[tg.name] = metrics
            return
        failed = self.failed_tg_allocs.get(tg.name)
        if failed is not None:
            failed.coalesced_failures += 1
            exhaust_resources(failed, tg)
            return
        self.ctx.populate_score_meta_data()
        exhaust_resources(metrics, tg)
        self.failed_tg_allocs[tg.name] = metrics

    def _adjust_queued(self, result: PlanResult) -> None:
        for allocs in result.node_allocation.values():
            for alloc in allocs:
                placed_now = alloc.eval_id == self.eval.id and not alloc.create_index
                if placed_now and alloc.task_group in self.queued_allocs:
                    self.queued_allocs[alloc.task_group] = max(
                        self.queued_allocs[alloc.task_group] - 1, 0
                    )

    def _create_blocked_eval(self) -> None:
        self.blocked = blocked_eval(
            self.eval,
            self.failed_tg_allocs,
            self.clock(),
            triggered_by=TRIGGER_QUEUED_ALLOCS,
            description=BLOCKED_EVAL_FAILED_PLACEMENTS,
            class_eligibility={},
            # a system job wants specific nodes: any capacity change may unblock it
            escaped=True,
        )
        self.planner.create_eval(self.blocked)

    def _set_status(self, status: str, desc: str) -> None:
        self.planner.update_eval(
            with_status(
                self.eval, status, desc, self.failed_tg_allocs, self.queued_allocs, self.blocked
            )
        )
