"""The reconciler's deployment rules (Nomad's deployment parts of ``scheduler/reconcile.go``).

- :func:`cancel_unneeded`: a deployment of an older job version (or of a stopped job) is
  cancelled; a successful one is no longer current.
- :func:`new_deployment`: the deployment a new job version gets (``pending`` for multiregion
  jobs, which their coordinator starts with ``Deployment.Run``).
- :func:`compute_limit`: how many destructive updates may start now: ``max_parallel`` minus
  the allocations of this deployment not yet healthy; none while canaries await promotion or
  the deployment is paused, pending or failed.
- :func:`next_canaries`: canary names, taken from the allocations being replaced first.
- :func:`group_complete`: every desired allocation healthy and canaries promoted.
"""

from __future__ import annotations

from collections.abc import Callable

from nomadic.structs import Allocation, Deployment, DeploymentState, DeploymentStatusUpdate, Job
from nomadic.structs import deployment as dep
from nomadic.structs.job import TaskGroup, UpdateStrategy

from .allocset import AllocNameIndex, AllocSet, alloc_name

__all__ = [
    "cancel_unneeded",
    "compute_limit",
    "group_complete",
    "initial_state",
    "new_deployment",
    "next_canaries",
    "starts_pending",
    "strategy_of",
]


def strategy_of(tg: TaskGroup) -> UpdateStrategy | None:
    """The group's update strategy when it asks for deployments (``max_parallel`` > 0)."""
    if tg.update is None or tg.update.max_parallel <= 0:
        return None
    return tg.update


def cancel_unneeded(
    job: Job | None, d: Deployment | None
) -> tuple[Deployment | None, Deployment | None, list[DeploymentStatusUpdate]]:
    """(current deployment, old deployment, status updates) for the job as it is now."""
    if d is None:
        return None, None, []
    updates: list[DeploymentStatusUpdate] = []
    if job is None or job.stop:
        if d.active():
            updates.append(_cancel(d, dep.DEPLOYMENT_DESC_STOPPED_JOB))
        return None, d, updates
    if d.job_create_index != job.create_index or d.job_version != job.version:
        if d.active():
            updates.append(_cancel(d, dep.DEPLOYMENT_DESC_NEWER_JOB))
        return None, d, updates
    if d.status == dep.DEPLOYMENT_STATUS_SUCCESSFUL:
        return None, None, []
    return d, None, []


def _cancel(d: Deployment, desc: str) -> DeploymentStatusUpdate:
    return DeploymentStatusUpdate(
        deployment_id=d.id, status=dep.DEPLOYMENT_STATUS_CANCELLED, status_description=desc
    )


def starts_pending(job: Job) -> bool:
    """A multiregion job's new deployment waits for its coordinator (``Deployment.Run``)."""
    if job.multiregion is None or job.is_periodic() or job.is_parameterized():
        return False
    return any(strategy_of(tg) is not None for tg in job.task_groups)


def new_deployment(job: Job, eval_priority: int, new_id: Callable[[], str], now: int) -> Deployment:
    d = Deployment(
        id=new_id(),
        namespace=job.namespace,
        job_id=job.id,
        job_version=job.version,
        job_modify_index=job.modify_index,
        job_spec_modify_index=job.job_modify_index,
        job_create_index=job.create_index,
        is_multiregion=job.multiregion is not None,
        eval_priority=eval_priority,
        create_time=now,
        modify_time=now,
    )
    if starts_pending(job):
        d.status = dep.DEPLOYMENT_STATUS_PENDING
        d.status_description = dep.DEPLOYMENT_DESC_PENDING_FOR_PEER
    return d


def initial_state(tg: TaskGroup) -> DeploymentState:
    state = DeploymentState(desired_total=tg.count)
    strategy = strategy_of(tg)
    if strategy is not None:
        state.auto_revert = strategy.auto_revert
        state.auto_promote = strategy.auto_promote
        state.progress_deadline = strategy.progress_deadline
    return state


def compute_limit(
    tg: TaskGroup,
    d: Deployment | None,
    untainted: AllocSet,
    changes: int,
    *,
    halted: bool,
    canarying: bool,
) -> int:
    """Nomad's computeLimit; ``changes`` counts destructive updates plus migrations."""
    strategy = strategy_of(tg)
    if strategy is None or changes == 0:
        return tg.count
    if halted or canarying:
        return 0
    limit = strategy.max_parallel
    if d is not None:
        for alloc in untainted.values():
            if alloc.deployment_id != d.id:
                continue
            status = alloc.deployment_status
            if status is not None and status.is_unhealthy():
                return 0  # an unhealthy allocation stops the rollout
            if status is None or not status.is_healthy():
                limit -= 1
    return max(limit, 0)


def next_canaries(
    job_id: str, tg: TaskGroup, n: int, canaries: AllocSet, destructive: AllocSet
) -> list[str]:
    """Names for ``n`` canaries: those of allocations to replace first, then free ones."""
    taken = {a.name for a in canaries.values()}
    names: list[str] = []
    for alloc in sorted(destructive.values(), key=lambda a: a.index()):
        if len(names) == n:
            return names
        if alloc.name not in taken and alloc.name not in names:
            names.append(alloc.name)
    index = AllocNameIndex(job_id, tg.name, tg.count, {**canaries, **destructive})
    names += index.next(n - len(names))
    for i in range(len(names), n):  # only reached when count is 0
        names.append(alloc_name(job_id, tg.name, i))
    return names


def group_complete(d: Deployment | None, group: str) -> bool:
    if d is None:
        return True
    state = d.task_groups.get(group)
    if state is None:
        return True
    if state.healthy_allocs < max(state.desired_total, state.desired_canaries):
        return False
    return not (state.desired_canaries > 0 and not state.promoted)


def is_canary_of(d: Deployment | None, alloc: Allocation) -> bool:
    if d is None:
        return False
    return any(alloc.id in s.placed_canaries for s in d.task_groups.values())
