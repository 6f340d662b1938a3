"""The scheduler Harness: run schedulers with no server, and see exactly what they decided.

:class:`InMemoryState` is a tiny dict-backed ``State`` (the real state store is not used, so
scheduler tests stay independent of it). :class:`Harness` is the ``Planner``: it records
every plan, eval update, created and re-blocked eval, and applies plans to its own state the
way the leader's plan applier does (nodes that are gone, not ready or would not fit are
rejected, so retries see a partial commit; preempted allocations are evicted). Tests can
force rejections:

    h = Harness()
    h.reject_plans = 1            # the next plan is refused outright (RefreshIndex set)
    h.reject_nodes = {node.id}    # placements on this node are refused (partial commit)
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from nomadic.scheduler import new_scheduler
from nomadic.scheduler.generic import GenericScheduler
from nomadic.scheduler.interfaces import State
from nomadic.scheduler.system import SystemScheduler
from nomadic.structs import (
    Allocation,
    Deployment,
    Evaluation,
    Job,
    Node,
    Plan,
    PlanResult,
    SchedulerConfiguration,
)
from nomadic.structs.consts import (
    JOB_TYPE_BATCH,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
    NODE_INELIGIBLE,
    NODE_STATUS_READY,
)
from nomadic.structs.funcs import NodeAllocsUsage, allocs_fit

__all__ = ["Harness", "InMemoryState"]


class InMemoryState:
    """A dict-backed State; ``snapshot()`` is a cheap copy later writes do not affect."""

    def __init__(self) -> None:
        self.index = 1
        self.jobs: dict[tuple[str, str], Job] = {}
        self.nodes_by_id: dict[str, Node] = {}
        self.allocs: dict[str, Allocation] = {}
        self.evals: dict[str, Evaluation] = {}
        self.deployments: dict[str, Deployment] = {}
        self.sched_config = SchedulerConfiguration()

    def snapshot(self) -> InMemoryState:
        snap = InMemoryState()
        snap.index = self.index
        snap.jobs = dict(self.jobs)
        snap.nodes_by_id = dict(self.nodes_by_id)
        snap.allocs = dict(self.allocs)
        snap.evals = dict(self.evals)
        snap.deployments = dict(self.deployments)
        snap.sched_config = self.sched_config
        return snap

    def next_index(self) -> int:
        self.index += 1
        return self.index

    # --- writes (each bumps the index and stamps it, like the FSM) ---

    def upsert_job(self, job: Job) -> Job:
        idx = self.next_index()
        old = self.jobs.get((job.namespace, job.id))
        version = old.version + 1 if old is not None else job.version
        create = old.create_index if old is not None else idx
        job = msgspec.structs.replace(
            job, version=version, create_index=create, modify_index=idx, job_modify_index=idx
        )
        self.jobs[(job.namespace, job.id)] = job
        return job

    def upsert_node(self, node: Node) -> Node:
        idx = self.next_index()
        old = self.nodes_by_id.get(node.id)
        node = msgspec.structs.replace(
            node, create_index=old.create_index if old else idx, modify_index=idx
        )
        self.nodes_by_id[node.id] = node
        return node

    def upsert_allocs(self, allocs: list[Allocation]) -> None:
        idx = self.next_index()
        for alloc in allocs:
            old = self.allocs.get(alloc.id)
            self.allocs[alloc.id] = msgspec.structs.replace(
                alloc,
                create_index=old.create_index if old else idx,
                modify_index=idx,
                alloc_modify_index=idx,
            )
            prev = self.allocs.get(alloc.previous_allocation) if alloc.previous_allocation else None
            if prev is not None and prev.next_allocation != alloc.id:
                self.allocs[prev.id] = msgspec.structs.replace(
                    prev, next_allocation=alloc.id, modify_index=idx
                )

    def upsert_eval(self, evaluation: Evaluation) -> None:
        idx = self.next_index()
        old = self.evals.get(evaluation.id)
        self.evals[evaluation.id] = msgspec.structs.replace(
            evaluation, create_index=old.create_index if old else idx, modify_index=idx
        )

    def upsert_deployment(self, deployment: Deployment) -> Deployment:
        idx = self.next_index()
        old = self.deployments.get(deployment.id)
        deployment = msgspec.structs.replace(
            deployment, create_index=old.create_index if old else idx, modify_index=idx
        )
        self.deployments[deployment.id] = deployment
        return deployment

    # --- the State protocol ---

    def latest_deployment_by_job(self, namespace: str, job_id: str) -> Deployment | None:
        found = [
            d for d in self.deployments.values() if d.namespace == namespace and d.job_id == job_id
        ]
        return max(found, key=lambda d: (d.create_index, d.id), default=None)

    def latest_index(self) -> int:
        return self.index

    def job_by_id(self, namespace: str, job_id: str) -> Job | None:
        return self.jobs.get((namespace, job_id))

    def nodes(self) -> list[Node]:
        return sorted(self.nodes_by_id.values(), key=lambda n: n.id)

    def node_by_id(self, node_id: str) -> Node | None:
        return self.nodes_by_id.get(node_id)

    def allocs_by_job(self, namespace: str, job_id: str) -> list[Allocation]:
        return [a for a in self.allocs.values() if a.namespace == namespace and a.job_id == job_id]

    def allocs_by_node(self, node_id: str) -> list[Allocation]:
        return [a for a in self.allocs.values() if a.node_id == node_id]

    def alloc_by_id(self, alloc_id: str) -> Allocation | None:
        return self.allocs.get(alloc_id)

    def node_usage(self, node_id: str) -> NodeAllocsUsage:
        usage = NodeAllocsUsage()
        for a in self.allocs_by_node(node_id):
            if not a.terminal():
                usage = usage.plus(a)
        return usage

    def eval_by_id(self, eval_id: str) -> Evaluation | None:
        return self.evals.get(eval_id)

    def scheduler_config(self) -> SchedulerConfiguration:
        return self.sched_config


class Harness:
    """A recording Planner over an :class:`InMemoryState`."""

    def __init__(self) -> None:
        self.state = InMemoryState()
        self.plans: list[Plan] = []
        self.evals: list[Evaluation] = []
        self.create_evals: list[Evaluation] = []
        self.reblock_evals: list[Evaluation] = []
        self.reject_plans = 0
        self.reject_nodes: set[str] = set()

    # --- running a scheduler ---

    def process(self, evaluation: Evaluation, *, clock: Callable[[], int] | None = None) -> None:
        """Run the scheduler for ``evaluation`` on a snapshot (``clock``: fixed Unix ns)."""
        snap = self.state.snapshot()
        if clock is not None and evaluation.type in (JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH):
            sysbatch = evaluation.type == JOB_TYPE_SYSBATCH
            SystemScheduler(snap, self, sysbatch=sysbatch, clock=clock).process(evaluation)
            return
        if clock is not None:
            batch = evaluation.type == JOB_TYPE_BATCH
            GenericScheduler(snap, self, batch=batch, clock=clock).process(evaluation)
            return
        new_scheduler(evaluation.type, snap, self).process(evaluation)

    # --- the Planner protocol ---

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, State | None]:
        self.plans.append(plan)
        if self.reject_plans > 0:
            self.reject_plans -= 1
            return PlanResult(refresh_index=self.state.index), self.state.snapshot()
        node_ids = sorted(
            set(plan.node_update) | set(plan.node_allocation) | set(plan.node_preemptions)
        )
        accepted = [n for n in node_ids if self._node_fits(plan, n)]
        rejected = [n for n in node_ids if n not in accepted]
        if plan.all_at_once and rejected:
            accepted = []
        result = PlanResult(
            node_update={n: plan.node_update[n] for n in accepted if n in plan.node_update},
            node_allocation={
                n: plan.node_allocation[n] for n in accepted if n in plan.node_allocation
            },
            node_preemptions={
                n: plan.node_preemptions[n] for n in accepted if n in plan.node_preemptions
            },
            rejected_nodes=rejected,
        )
        self._apply(plan, result)
        if rejected:
            result.refresh_index = self.state.index
            return result, self.state.snapshot()
        return result, None

    def update_eval(self, evaluation: Evaluation) -> None:
        self.evals.append(evaluation)
        self.state.upsert_eval(evaluation)

    def create_eval(self, evaluation: Evaluation) -> None:
        self.create_evals.append(evaluation)
        self.state.upsert_eval(evaluation)

    def reblock_eval(self, evaluation: Evaluation) -> None:
        self.reblock_evals.append(evaluation)
        self.state.upsert_eval(evaluation)

    # --- plan application (what the leader's plan applier does) ---

    def _node_fits(self, plan: Plan, node_id: str) -> bool:
        if node_id in self.reject_nodes:
            return False
        placing = plan.node_allocation.get(node_id, [])
        if not placing:
            return True  # evict-only plans always fit
        node = self.state.node_by_id(node_id)
        if node is None or node.status != NODE_STATUS_READY:
            return False
        existing_ids = {a.id for a in self.state.allocs_by_node(node_id) if not a.terminal()}
        in_place = all(a.id in existing_ids for a in placing)
        if node.scheduling_eligibility == NODE_INELIGIBLE and not in_place:
            return False
        removed = {a.id for a in plan.node_update.get(node_id, [])} | {a.id for a in placing}
        removed |= {a.id for a in plan.node_preemptions.get(node_id, [])}
        existing = [
            a
            for a in self.state.allocs_by_node(node_id)
            if not a.terminal() and a.id not in removed
        ]
        fits, _ = allocs_fit(node, existing + placing)
        return fits

    def _apply(self, plan: Plan, result: PlanResult) -> None:
        allocs: list[Allocation] = []
        for stops in [*result.node_update.values(), *result.node_preemptions.values()]:
            allocs += stops
        for placed in result.node_allocation.values():
            allocs += [
                a if a.job is not None else msgspec.structs.replace(a, job=plan.job) for a in placed
            ]
        if plan.deployment is not None:
            self.state.upsert_deployment(plan.deployment)
        for update in plan.deployment_updates:
            old = self.state.deployments.get(update.deployment_id)
            if old is not None:
                self.state.upsert_deployment(
                    msgspec.structs.replace(
                        old, status=update.status, status_description=update.status_description
                    )
                )
        if allocs:
            self.state.upsert_allocs(allocs)
