"""GenericScheduler: places service and batch jobs (Nomad's ``generic_sched.go``).

process(eval): load job (and its latest deployment) -> reconcile -> stops, in-place
    updates -> placements (stack), tagged with the deployment -> submit plan (with the
    deployment the reconciler created and its status changes) -> partial commit? retry on
    the refreshed state (5 service, 2 batch; progress resets the count) -> eval complete
    (or failed), with a blocked eval for what could not be placed and follow-up evals for
    delayed reschedules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import msgspec

from nomadic.structs import (
    AllocatedResources,
    AllocatedSharedResources,
    Allocation,
    AllocDeploymentStatus,
    AllocMetric,
    Deployment,
    Evaluation,
    Job,
    Node,
    Plan,
    PlanResult,
    TaskGroup,
)
from nomadic.structs.consts import (
    ALLOC_CLIENT_FAILED,
    ALLOC_CLIENT_PENDING,
    ALLOC_DESIRED_EVICT,
    ALLOC_DESIRED_RUN,
    ALLOC_DESIRED_STOP,
    EVAL_STATUS_BLOCKED,
    EVAL_STATUS_COMPLETE,
    EVAL_STATUS_FAILED,
    NODE_STATUS_READY,
    TRIGGER_MAX_PLANS,
    TRIGGER_QUEUED_ALLOCS,
)
from nomadic.structs.ids import new_id

from .allocset import tainted_nodes
from .context import EvalContext
from .evals import blocked_eval, retry_max, with_status
from .feasible import ready_nodes_in_dcs_and_pool
from .inplace import generic_alloc_update_fn, pop_update
from .interfaces import Planner, State
from .reconcile import AllocReconciler, PlaceResult, ReconcileResults
from .reschedule import update_reschedule_tracker
from .stack import GenericStack, SelectOptions
from .triggers import GENERIC_TRIGGERS

__all__ = [
    "BLOCKED_EVAL_FAILED_PLACEMENTS",
    "BLOCKED_EVAL_MAX_PLAN_DESC",
    "MAX_BATCH_SCHEDULE_ATTEMPTS",
    "MAX_SERVICE_SCHEDULE_ATTEMPTS",
    "GenericScheduler",
    "exhaust_resources",
]

MAX_SERVICE_SCHEDULE_ATTEMPTS: Final = 5
MAX_BATCH_SCHEDULE_ATTEMPTS: Final = 2
BLOCKED_EVAL_MAX_PLAN_DESC: Final = "created due to placement conflicts"
BLOCKED_EVAL_FAILED_PLACEMENTS: Final = "created to place remaining allocations"


class GenericScheduler:
    """Implements ``Scheduler`` for service (``batch=False``) and batch jobs."""

    def __init__(
        self,
        state: State,
        planner: Planner,
        *,
        batch: bool,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.state = state
        self.clock = clock  # Unix ns; tests pass a fixed clock for reschedule timing
        self.planner = planner
        self.batch = batch
        self.eval = Evaluation()
        self.job: Job | None = None
        self.plan = Plan()
        self.plan_result: PlanResult | None = None
        self.ctx = EvalContext(state, self.plan, "")
        self.stack = GenericStack(batch, self.ctx)
        self.blocked: Evaluation | None = None
        self.failed_tg_allocs: dict[str, AllocMetric] = {}
        self.queued_allocs: dict[str, int] = {}
        self.followup_evals: list[Evaluation] = []
        self._placed_ids: set[str] = set()
        self.deployment: Deployment | None = None

    def process(self, evaluation: Evaluation) -> None:
        self.eval = evaluation
        if evaluation.triggered_by not in GENERIC_TRIGGERS:
            desc = f"scheduler cannot handle '{evaluation.triggered_by}' evaluation reason"
            self._set_status(EVAL_STATUS_FAILED, desc)
            return
        limit = MAX_BATCH_SCHEDULE_ATTEMPTS if self.batch else MAX_SERVICE_SCHEDULE_ATTEMPTS
        if not retry_max(self._attempt, lambda: self.plan_result, limit):
            self._create_blocked_eval(plan_failure=True)
            self._set_status(EVAL_STATUS_FAILED, f"maximum attempts reached ({limit})")
            return
        if evaluation.status == EVAL_STATUS_BLOCKED and self.failed_tg_allocs:
            e = self.ctx.eligibility
            self.planner.reblock_eval(
                msgspec.structs.replace(
                    evaluation,
                    escaped_computed_class=e.has_escaped(),
                    class_eligibility=e.get_classes(),
                    failed_tg_allocs=self.failed_tg_allocs,
                    queued_allocations=self.queued_allocs,
                )
            )
            return
        self._set_status(EVAL_STATUS_COMPLETE, "")

    def _attempt(self) -> bool:
        ev = self.eval
        self.job = self.state.job_by_id(ev.namespace, ev.job_id)
        stopped = self.job is None or self.job.stop
        self.queued_allocs = (
            {} if stopped or self.job is None else {tg.name: 0 for tg in self.job.task_groups}
        )
        self.followup_evals = []
        self.failed_tg_allocs = {}
        self._placed_ids = set()
        self.plan = Plan(
            eval_id=ev.id,
            priority=ev.priority,
            job=self.job,
            all_at_once=bool(self.job and self.job.all_at_once),
            snapshot_index=self.state.latest_index(),
        )
        self.ctx = EvalContext(self.state, self.plan, ev.id)
        self.stack = GenericStack(self.batch, self.ctx)
        if self.job is not None and not stopped:
            self.stack.set_job(self.job)
            preemption = self.state.scheduler_config().preemption_config
            self.stack.bin_pack.evict = (
                preemption.batch_scheduler_enabled
                if self.batch
                else preemption.service_scheduler_enabled
            )
            self.stack.bin_pack.priority = self.job.priority
        self._compute_job_allocs()
        delay_instead = bool(self.followup_evals) and ev.wait_until == 0
        if (
            ev.status != EVAL_STATUS_BLOCKED
            and self.failed_tg_allocs
            and self.blocked is None
            and not delay_instead
        ):
            self._create_blocked_eval(plan_failure=False)
        if self.plan.is_noop() and not ev.annotate_plan:
            return True
        if delay_instead:
            for follow in self.followup_evals:
                self.planner.create_eval(msgspec.structs.replace(follow, previous_eval=ev.id))
        result, new_state = self.planner.submit_plan(self.plan)
        self.plan_result = result
        self._adjust_queued(result)
        if new_state is not None:
            self.state = new_state
            return False
        full, _, _ = result.full_commit(self.plan)
        return full

    def _adjust_queued(self, result: PlanResult) -> None:
        for allocs in result.node_allocation.values():
            for alloc in allocs:
                if alloc.id in self._placed_ids and alloc.task_group in self.queued_allocs:
                    self.queued_allocs[alloc.task_group] -= 1

    def _compute_job_allocs(self) -> None:
        ev = self.eval
        allocs = self.state.allocs_by_job(ev.namespace, ev.job_id)
        deployment = None
        if not self.batch:
            deployment = self.state.latest_deployment_by_job(ev.namespace, ev.job_id)
        reconciler = AllocReconciler(
            generic_alloc_update_fn(self.ctx, self.stack, ev.id),
            self.batch,
            ev.job_id,
            self.job,
            allocs,
            tainted_nodes(self.state, allocs),
            ev.id,
            ev.priority,
            self.clock(),
            deployment=deployment,
        )
        results = reconciler.compute()
        self.deployment = reconciler.deployment
        self.plan.deployment = results.deployment
        self.plan.deployment_updates = results.deployment_updates
        if ev.annotate_plan:
            self.plan.annotations = {
                tg: d.annotation() for tg, d in results.desired_tg_updates.items()
            }
        for evals in results.desired_followup_evals.values():
            self.followup_evals += evals
        for stop in results.stop:
            self._append_stopped(stop.alloc, stop.status_description, stop.client_status)
        for update in results.inplace_update:
            self.plan.append_alloc(self._with_deployment(update))
        for update in results.attribute_updates.values():
            self.plan.append_alloc(update)
        if not results.place and not results.destructive_update:
            if self.job is not None:
                self.queued_allocs = {tg.name: 0 for tg in self.job.task_groups}
            return
        self._compute_placements(results)

    def _with_deployment(self, alloc: Allocation) -> Allocation:
        """An in-place updated alloc joins the current deployment (its health is re-judged)."""
        d_id = self.deployment.id if self.deployment is not None else ""
        if alloc.deployment_id == d_id:
            return alloc
        return msgspec.structs.replace(alloc, deployment_id=d_id, deployment_status=None)

    def _append_stopped(self, alloc: Allocation, desc: str, client_status: str = "") -> None:
        fields: dict[str, str] = {"desired_status": ALLOC_DESIRED_STOP, "desired_description": desc}
        if client_status:
            fields["client_status"] = client_status
        self.plan.append_stopped_alloc(msgspec.structs.replace(alloc, **fields))

    def _compute_placements(self, results: ReconcileResults) -> None:
        assert self.job is not None
        nodes, by_dc = ready_nodes_in_dcs_and_pool(
            self.state, self.job.datacenters, self.job.node_pool
        )
        self.stack.set_nodes(nodes)
        now = self.clock()
        # Destructive updates first: their stops free the resources the new version needs.
        for missing in [*results.destructive_update, *results.place]:
            tg = missing.task_group
            self.queued_allocs[tg.name] = self.queued_allocs.get(tg.name, 0) + 1
            failed = self.failed_tg_allocs.get(tg.name)
            if failed is not None:
                failed.coalesced_failures += 1
                continue
            self._place_one(missing, tg, nodes, by_dc, now)

    def _place_one(
        self,
        missing: PlaceResult,
        tg: TaskGroup,
        nodes: list[Node],
        by_dc: dict[str, int],
        now: int,
    ) -> None:
        assert self.job is not None
        prev = missing.previous_alloc
        if missing.stop_previous and prev is not None:
            self._append_stopped(prev, missing.stop_description)
        option = self.stack.select(tg, self._select_options(missing))
        metrics = self.ctx.metrics
        metrics.nodes_available = dict(by_dc)
        metrics.nodes_in_pool = len(nodes)
        self.ctx.populate_score_meta_data()
        if option is None:
            exhaust_resources(metrics, tg)
            self.failed_tg_allocs[tg.name] = metrics
            if missing.stop_previous and prev is not None:
                pop_update(self.ctx, prev)
            return
        shared = option.alloc_resources or AllocatedSharedResources()
        alloc = Allocation(
            id=new_id(),
            namespace=self.job.namespace,
            eval_id=self.eval.id,
            name=missing.name,
            node_id=option.node.id,
            node_name=option.node.name,
            job_id=self.job.id,
            job=self.job,
            task_group=tg.name,
            allocated_resources=AllocatedResources(
                tasks=option.task_resources,
                shared=msgspec.structs.replace(shared, disk_mb=tg.ephemeral_disk.size_mb),
            ),
            metrics=metrics,
            desired_status=ALLOC_DESIRED_RUN,
            client_status=ALLOC_CLIENT_PENDING,
            deployment_id=self.deployment.id if self.deployment is not None else "",
            deployment_status=AllocDeploymentStatus(canary=True) if missing.canary else None,
        )
        if prev is not None:
            alloc.previous_allocation = prev.id
            if missing.reschedule:
                update_reschedule_tracker(alloc, prev, now)
        for victim in option.preempted_allocs:
            self.plan.node_preemptions.setdefault(option.node.id, []).append(
                msgspec.structs.replace(
                    victim,
                    desired_status=ALLOC_DESIRED_EVICT,
                    desired_description=f"Preempted by alloc ID {alloc.id}",
                    preempted_by_allocation=alloc.id,
                )
            )
            alloc.preempted_allocations.append(victim.id)
        self._placed_ids.add(alloc.id)
        self.plan.append_alloc(alloc)

    def _select_options(self, missing: PlaceResult) -> SelectOptions:
        options = SelectOptions(alloc_name=missing.name)
        prev = missing.previous_alloc
        if prev is None:
            return options
        if prev.client_status == ALLOC_CLIENT_FAILED:
            options.penalty_node_ids.add(prev.node_id)
        if prev.reschedule_tracker is not None:
            options.penalty_node_ids |= {e.prev_node_id for e in prev.reschedule_tracker.events}
        if missing.task_group.ephemeral_disk.sticky:
            node = self.state.node_by_id(prev.node_id)
            if node is not None and node.status == NODE_STATUS_READY:
                options.preferred_nodes = [node]
        return options

    def _create_blocked_eval(self, *, plan_failure: bool) -> None:
        e = self.ctx.eligibility
        escaped = e.has_escaped()
        self.blocked = blocked_eval(
            self.eval,
            self.failed_tg_allocs,
            self.clock(),
            triggered_by=TRIGGER_MAX_PLANS if plan_failure else TRIGGER_QUEUED_ALLOCS,
            description=(
                BLOCKED_EVAL_MAX_PLAN_DESC if plan_failure else BLOCKED_EVAL_FAILED_PLACEMENTS
            ),
            class_eligibility={} if escaped else e.get_classes(),
            escaped=escaped,
        )
        self.planner.create_eval(self.blocked)

    def _set_status(self, status: str, desc: str) -> None:
        ev = with_status(
            self.eval, status, desc, self.failed_tg_allocs, self.queued_allocs, self.blocked
        )
        if self.deployment is not None and self.deployment.active():
            ev.deployment_id = self.deployment.id  # Nomad's eval.DeploymentID: `job run` follows it
        self.planner.update_eval(ev)


def exhaust_resources(metrics: AllocMetric, tg: TaskGroup) -> None:
    """Record what the group asked for in the exhausted dimensions (ResourcesExhausted)."""
    if not metrics.dimension_exhausted:
        return
    for task in tg.tasks:
        entry = metrics.resources_exhausted.setdefault(task.name, {})
        if metrics.dimension_exhausted.get("memory"):
            entry["MemoryMB"] = entry.get("MemoryMB", 0) + task.resources.memory_mb
        if metrics.dimension_exhausted.get("cpu"):
            entry["CPU"] = entry.get("CPU", 0) + task.resources.cpu
