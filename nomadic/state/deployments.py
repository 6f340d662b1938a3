"""Deployment writes inside one state transaction (Nomad's deployment parts of state_store.go).

Kept apart from :mod:`nomadic.state.store` so the store stays a thin list of write methods:
each function takes the open transaction (``_Txn``) and changes the ``deployments`` table,
its ``deployments_by_job`` index, and what a deployment changes elsewhere (the job's
``Stable`` flag when a deployment succeeds, canary flags when canaries are promoted).

:func:`count_alloc` is Nomad's ``updateDeploymentWithAlloc``: every allocation write counts
placements and health into the allocation's deployment, deterministically (the times used
are the ones stamped into the allocation by the leader or its client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from nomadic.structs import Allocation, Deployment, DeploymentStatusUpdate, Job
from nomadic.structs.deployment import (
    DEPLOYMENT_DESC_RUNNING,
    DEPLOYMENT_STATUS_RUNNING,
    DEPLOYMENT_STATUS_SUCCESSFUL,
    AllocDeploymentStatus,
)

if TYPE_CHECKING:
    from .store import _Txn

__all__ = [
    "count_alloc",
    "set_alloc_health",
    "set_job_stable",
    "update_deployment_status",
    "update_promotion",
    "upsert_deployment",
]

_replace = msgspec.structs.replace


def upsert_deployment(t: _Txn, d: Deployment) -> None:
    old: Deployment | None = t.get("deployments", d.id)
    create = old.create_index if old is not None else t.index
    d = _replace(d, create_index=create, modify_index=t.index)
    t.put("deployments", d.id, d)
    t.index_add("deployments_by_job", (d.namespace, d.job_id), d.id)


def update_deployment_status(t: _Txn, update: DeploymentStatusUpdate, now: int) -> None:
    """Set a deployment's status; a successful deployment marks its job version stable."""
    old: Deployment | None = t.get("deployments", update.deployment_id)
    if old is None:
        return
    new = _replace(
        old,
        status=update.status,
        status_description=update.status_description,
        modify_index=t.index,
        modify_time=now or old.modify_time,
    )
    t.put("deployments", old.id, new)
    if update.status == DEPLOYMENT_STATUS_SUCCESSFUL:
        set_job_stable(t, old.namespace, old.job_id, old.job_version, True)


def set_job_stable(t: _Txn, namespace: str, job_id: str, version: int, stable: bool) -> None:
    """Nomad's UpdateJobStability: the current job and its stored version."""
    key = (namespace, job_id)
    job: Job | None = t.get("jobs", key)
    if job is not None and job.version == version and job.stable != stable:
        t.put_job(key, _replace(job, stable=stable, modify_index=t.index))
    versions: tuple[Job, ...] = t.get("job_versions", key) or ()
    if any(v.version == version and v.stable != stable for v in versions):
        t.put(
            "job_versions",
            key,
            tuple(_replace(v, stable=stable) if v.version == version else v for v in versions),
        )


def update_promotion(t: _Txn, deployment_id: str, groups: list[str] | None, now: int) -> None:
    """Promote the canaries of ``groups`` (None: every group) and clear their canary flag."""
    old: Deployment | None = t.get("deployments", deployment_id)
    if old is None:
        return
    states = dict(old.task_groups)
    promoted: list[str] = []
    for name, state in states.items():
        if state.desired_canaries == 0 or (groups is not None and name not in groups):
            continue
        # a promotion restarts the progress deadline (Nomad's RequireProgressBy reset)
        require_by = state.require_progress_by
        if state.progress_deadline and now:
            require_by = now + state.progress_deadline
        states[name] = _replace(state, promoted=True, require_progress_by=require_by)
        promoted += state.placed_canaries
    status, desc = old.status, old.status_description
    if status == DEPLOYMENT_STATUS_RUNNING:
        desc = DEPLOYMENT_DESC_RUNNING
    new = _replace(
        old,
        task_groups=states,
        status=status,
        status_description=desc,
        modify_index=t.index,
        modify_time=now or old.modify_time,
    )
    t.put("deployments", old.id, new)
    for alloc_id in promoted:
        alloc: Allocation | None = t.get("allocs", alloc_id)
        if alloc is None or alloc.deployment_status is None:
            continue
        status_obj = _replace(alloc.deployment_status, canary=False, modify_index=t.index)
        t.upsert_alloc(_replace(alloc, deployment_status=status_obj), server_change=False)


def set_alloc_health(t: _Txn, alloc_ids: list[str], healthy: bool, timestamp: int) -> None:
    """Record a health verdict made by the server (the watcher or a user)."""
    for alloc_id in alloc_ids:
        alloc: Allocation | None = t.get("allocs", alloc_id)
        if alloc is None:
            continue
        current = alloc.deployment_status or AllocDeploymentStatus()
        status = _replace(current, healthy=healthy, timestamp=timestamp, modify_index=t.index)
        t.upsert_alloc(_replace(alloc, deployment_status=status), server_change=False)


def has_healthy(status: AllocDeploymentStatus | None) -> bool:
    return status is None or status.healthy is not False


def count_alloc(t: _Txn, old: Allocation | None, alloc: Allocation) -> None:
    """Count a written allocation into its deployment (placed, healthy, unhealthy)."""
    if not alloc.deployment_id:
        return
    d: Deployment | None = t.get("deployments", alloc.deployment_id)
    if d is None:
        return
    state = d.task_groups.get(alloc.task_group)
    if state is None:
        return
    placed = healthy = unhealthy = 0
    old_health = old.deployment_status if old is not None else None
    new_health = alloc.deployment_status
    had = old_health is not None and old_health.has_health()
    has = new_health is not None and new_health.has_health()
    if old is None or old.deployment_id != alloc.deployment_id:
        placed = 1
    elif not had and has and new_health is not None:
        healthy, unhealthy = (1, 0) if new_health.healthy else (0, 1)
    elif had and old_health is not None and old_health.healthy and not has_healthy(new_health):
        healthy, unhealthy = -1, 1  # gone from healthy to unhealthy
    canary = new_health is not None and new_health.canary
    new_canary = canary and alloc.id not in state.placed_canaries
    if not (placed or healthy or unhealthy or new_canary):
        return
    require_by = state.require_progress_by
    if state.progress_deadline:
        if placed and not require_by:
            require_by = (alloc.modify_time or alloc.create_time) + state.progress_deadline
        elif healthy > 0 and new_health is not None:
            require_by = max(require_by, new_health.timestamp + state.progress_deadline)
    new_state = _replace(
        state,
        placed_allocs=state.placed_allocs + placed,
        healthy_allocs=state.healthy_allocs + healthy,
        unhealthy_allocs=state.unhealthy_allocs + unhealthy,
        placed_canaries=[*state.placed_canaries, alloc.id] if new_canary else state.placed_canaries,
        require_progress_by=require_by,
    )
    groups = {**d.task_groups, alloc.task_group: new_state}
    t.put("deployments", d.id, _replace(d, task_groups=groups, modify_index=t.index))
