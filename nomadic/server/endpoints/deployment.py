"""Deployment endpoint (Nomad's ``nomad/deployment_endpoint.go``): Pause, Promote, Fail, Run,
Unblock and SetAllocHealth. Every write is one Raft entry carrying the status change and, when
the scheduler has something to do about it, a ``deployment-watcher`` evaluation.

Failing a deployment whose groups ask for ``auto_revert`` reverts the job to its latest stable
version through the job endpoint's revert (the same path as ``nomadic job revert``);
:func:`fail_deployment` is shared with the deployment watcher.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.entries import (
    DeploymentAllocHealthRequest,
    DeploymentPromoteRequest,
    DeploymentStatusUpdateRequest,
    Payload,
)
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Deployment, DeploymentStatusUpdate, Evaluation, Job
from nomadic.structs import deployment as dep
from nomadic.structs.consts import JOB_TYPE_SERVICE
from nomadic.structs.deployment import DeploymentUpdateResponse
from nomadic.structs.requests import JobRegisterResponse, JobRevertRequest

from .base import Host, new_eval, now_ns

__all__ = [
    "TRIGGER_DEPLOYMENT_WATCHER",
    "DeploymentEndpoint",
    "deployment_eval",
    "fail_deployment",
    "rollback_target",
]

log = logging.getLogger("nomadic.server.deployment")

TRIGGER_DEPLOYMENT_WATCHER = "deployment-watcher"
Revert = Callable[[JobRevertRequest], Awaitable[JobRegisterResponse]]


class DeploymentHost(Protocol):
    """What failing a deployment needs (the server, for the endpoint and the watcher)."""

    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...


def deployment_eval(snap: Snapshot, d: Deployment) -> Evaluation | None:
    """A pending ``deployment-watcher`` evaluation for the deployment's job."""
    job = snap.job_by_id(d.namespace, d.job_id)
    if job is None:
        return None
    ev = new_eval(job, TRIGGER_DEPLOYMENT_WATCHER)
    ev.deployment_id = d.id
    ev.type = job.type or JOB_TYPE_SERVICE
    return ev


def stable_version(snap: Snapshot, d: Deployment) -> Job | None:
    """The latest stable version of the job other than the failed one (Nomad's
    latestStableJob), or None."""
    for job in snap.job_versions(d.namespace, d.job_id):
        if job.stable and job.version != d.job_version:
            return job
    return None


def rollback_target(snap: Snapshot, d: Deployment, base: str) -> tuple[str, int | None]:
    """(status description, job version to revert to) for a failing deployment: its job's
    latest stable version when a group asks for ``auto_revert``."""
    if not any(s.auto_revert for s in d.task_groups.values()):
        return base, None
    job = snap.job_by_id(d.namespace, d.job_id)
    if job is None or job.version != d.job_version:
        return base, None  # the job moved on already: nothing to revert
    target = stable_version(snap, d)
    if target is None:
        return dep.rollback_description(base, None), None
    return dep.rollback_description(base, target.version), target.version


async def fail_deployment(
    host: DeploymentHost, revert: Revert, d: Deployment, base: str
) -> DeploymentUpdateResponse:
    """Mark ``d`` failed (with a ``deployment-watcher`` eval) and, with ``auto_revert``,
    register its job's latest stable version again (Nomad's rollback)."""
    snap = host.snapshot()
    desc, version = rollback_target(snap, d, base)
    ev = deployment_eval(snap, d)
    update = DeploymentStatusUpdate(
        deployment_id=d.id, status=dep.DEPLOYMENT_STATUS_FAILED, status_description=desc
    )
    index = await host.apply(
        DeploymentStatusUpdateRequest(deployment_update=update, updated_at=now_ns(), eval=ev)
    )
    resp = _response(index, ev)
    if version is not None:
        await revert(JobRevertRequest(job_id=d.job_id, namespace=d.namespace, job_version=version))
        resp.reverted_job_version = version
        log.info(
            "deployment failed, job reverted to its stable version",
            extra={"deployment_id": d.id, "job_id": d.job_id, "version": version},
        )
    return resp


class DeploymentEndpoint:
    def __init__(self, host: Host, revert: Revert) -> None:
        self._host = host
        self._revert = revert

    def _get(self, deployment_id: str) -> Deployment:
        d = self._host.snapshot().deployment_by_id(deployment_id)
        if d is None:
            raise NotFoundError(
                f'deployment "{deployment_id}" not found; list them with `nomadic deployment list`'
            )
        return d

    def _active(self, deployment_id: str, verb: str) -> Deployment:
        d = self._get(deployment_id)
        if not d.active():
            raise ValidationError(f"can't {verb} terminal deployment (status {d.status})")
        return d

    async def _set(
        self, d: Deployment, status: str, desc: str, *, with_eval: bool
    ) -> DeploymentUpdateResponse:
        snap = self._host.snapshot()
        ev = deployment_eval(snap, d) if with_eval else None
        update = DeploymentStatusUpdate(deployment_id=d.id, status=status, status_description=desc)
        index = await self._host.apply(
            DeploymentStatusUpdateRequest(deployment_update=update, updated_at=now_ns(), eval=ev)
        )
        return _response(index, ev)

    async def pause(self, deployment_id: str, pause: bool) -> DeploymentUpdateResponse:
        d = self._active(deployment_id, "pause" if pause else "resume")
        if pause:
            return await self._set(
                d, dep.DEPLOYMENT_STATUS_PAUSED, dep.DEPLOYMENT_DESC_PAUSED, with_eval=False
            )
        desc = dep.DEPLOYMENT_DESC_RUNNING
        if d.requires_promotion():
            desc = dep.DEPLOYMENT_DESC_NEEDS_PROMOTION
        return await self._set(d, dep.DEPLOYMENT_STATUS_RUNNING, desc, with_eval=True)

    async def fail(self, deployment_id: str) -> DeploymentUpdateResponse:
        d = self._active(deployment_id, "fail")
        return await fail_deployment(
            self._host, self._revert, d, dep.DEPLOYMENT_DESC_FAILED_BY_USER
        )

    async def run(self, deployment_id: str) -> DeploymentUpdateResponse:
        """Start a pending (multiregion) deployment."""
        d = self._get(deployment_id)
        if d.status != dep.DEPLOYMENT_STATUS_PENDING:
            raise ValidationError(f"can't run deployment in status {d.status}; it is not pending")
        return await self._set(
            d, dep.DEPLOYMENT_STATUS_RUNNING, dep.DEPLOYMENT_DESC_RUNNING, with_eval=True
        )

    async def unblock(self, deployment_id: str) -> DeploymentUpdateResponse:
        """Complete a blocked (multiregion) deployment: it becomes successful."""
        d = self._get(deployment_id)
        if d.status not in (dep.DEPLOYMENT_STATUS_BLOCKED, dep.DEPLOYMENT_STATUS_UNBLOCKING):
            raise ValidationError(
                f"can't unblock deployment in status {d.status}; it is not blocked"
            )
        return await self._set(
            d, dep.DEPLOYMENT_STATUS_SUCCESSFUL, dep.DEPLOYMENT_DESC_SUCCESSFUL, with_eval=False
        )

    async def promote(
        self, deployment_id: str, all_groups: bool, groups: list[str]
    ) -> DeploymentUpdateResponse:
        d = self._active(deployment_id, "promote")
        if d.status != dep.DEPLOYMENT_STATUS_RUNNING:
            raise ValidationError(f"can't promote deployment in status {d.status}")
        if not d.requires_promotion():
            raise ValidationError("can't promote deployment: no canaries to promote")
        unknown = [g for g in groups if g not in d.task_groups]
        if unknown:
            raise ValidationError(f"deployment has no task group(s) {', '.join(unknown)}")
        chosen = list(d.task_groups) if all_groups or not groups else groups
        snap = self._host.snapshot()
        for name in chosen:
            state = d.task_groups[name]
            if state.desired_canaries == 0 or state.promoted:
                continue
            healthy = 0
            for alloc_id in state.placed_canaries:
                alloc = snap.alloc_by_id(alloc_id)
                ds = alloc.deployment_status if alloc is not None else None
                if ds is not None and ds.is_healthy():
                    healthy += 1
            if healthy < state.desired_canaries:
                raise ValidationError(
                    f'Task group "{name}" has {healthy}/{state.desired_canaries} '
                    "healthy allocations"
                )
        ev = deployment_eval(snap, d)
        req = DeploymentPromoteRequest(
            deployment_id=d.id,
            all=all_groups or not groups,
            groups=list(groups),
            updated_at=now_ns(),
            eval=ev,
        )
        return _response(await self._host.apply(req), ev)

    async def set_alloc_health(
        self, deployment_id: str, healthy: list[str], unhealthy: list[str]
    ) -> DeploymentUpdateResponse:
        """Mark allocations healthy or unhealthy by hand (``health_check = "manual"``)."""
        d = self._active(deployment_id, "set health of allocations in")
        snap = self._host.snapshot()
        for alloc_id in [*healthy, *unhealthy]:
            alloc = snap.alloc_by_id(alloc_id)
            if alloc is None or alloc.deployment_id != d.id:
                raise ValidationError(f"allocation {alloc_id} is not part of deployment {d.id}")
        ev = deployment_eval(snap, d)
        req = DeploymentAllocHealthRequest(
            deployment_id=d.id,
            healthy_allocation_ids=list(healthy),
            unhealthy_allocation_ids=list(unhealthy),
            timestamp=now_ns(),
            eval=ev,
        )
        resp = _response(await self._host.apply(req), ev)
        if unhealthy:  # the watcher would fail it too; do it now, as Nomad does
            return await fail_deployment(
                self._host, self._revert, d, dep.DEPLOYMENT_DESC_FAILED_ALLOCS
            )
        return resp


def _response(index: int, ev: Evaluation | None) -> DeploymentUpdateResponse:
    return DeploymentUpdateResponse(
        eval_id=ev.id if ev is not None else "",
        eval_create_index=index if ev is not None else 0,
        deployment_modify_index=index,
        index=index,
    )
