"""Job endpoint (Nomad's ``nomad/job_endpoint.go``): Register, Deregister, Dispatch, Revert,
Scale and the scale status read."""

from __future__ import annotations

import logging

import msgspec

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.entries import JobDeregister, JobRegister
from nomadic.structs import Job, canonicalize, validate
from nomadic.structs.consts import (
    ALLOC_CLIENT_RUNNING,
    TRIGGER_JOB_DEREGISTER,
    TRIGGER_JOB_REGISTER,
)
from nomadic.structs.requests import (
    JobDeregisterResponse,
    JobDispatchRequest,
    JobDispatchResponse,
    JobRegisterResponse,
    JobRevertRequest,
    JobScaleRequest,
    JobScaleStatusResponse,
    TaskGroupScaleStatus,
)

from .base import Host, new_eval, now_ns
from .dispatch import derive_dispatched, existing_dispatch, parameterized_parent
from .globalobjs import require_namespace, require_node_pool

log = logging.getLogger("nomadic.server.job")

__all__ = ["JobEndpoint"]


class JobEndpoint:
    def __init__(self, host: Host) -> None:
        self._host = host

    async def register(
        self, job: Job, *, enforce_index: bool = False, job_modify_index: int = 0
    ) -> JobRegisterResponse:
        """Canonicalize and validate ``job``, store it, and create its evaluation."""
        job = canonicalize(job)
        errors = validate(job)
        if errors:
            raise ValidationError(errors)
        snap = self._host.snapshot()
        require_namespace(snap, job.namespace)
        require_node_pool(snap, job.node_pool)
        existing = snap.job_by_id(job.namespace, job.id)
        if enforce_index:
            _check_enforce_index(job, existing, job_modify_index)
        job = msgspec.structs.replace(job, submit_time=now_ns(), stop=False)
        # Periodic and parameterized parents are templates: their children get the evals.
        ev = None
        if not (job.is_periodic() or job.is_parameterized()):
            ev = new_eval(job, TRIGGER_JOB_REGISTER)
        index = await self._host.apply(JobRegister(job=job, eval=ev))
        log.info(
            "job registered",
            extra={"job_id": job.id, "namespace": job.namespace, "eval_id": ev.id if ev else ""},
        )
        stored = self._host.snapshot().job_by_id(job.namespace, job.id)
        return JobRegisterResponse(
            eval_id=ev.id if ev else "",
            eval_create_index=index if ev else 0,
            job_modify_index=stored.job_modify_index if stored else index,
            index=index,
        )

    async def deregister(
        self, namespace: str, job_id: str, *, purge: bool = False
    ) -> JobDeregisterResponse:
        """Stop the job (or purge it from state) and create an eval to stop its allocations."""
        job = self._host.snapshot().job_by_id(namespace, job_id)
        if job is None:
            raise NotFoundError(
                f'job "{job_id}" not found in namespace "{namespace}"; '
                "list jobs with `nomadic job status`"
            )
        ev = None
        if not (job.is_periodic() or job.is_parameterized()):
            ev = new_eval(job, TRIGGER_JOB_DEREGISTER)
        entry = JobDeregister(
            namespace=namespace, job_id=job_id, purge=purge, submit_time=now_ns(), eval=ev
        )
        index = await self._host.apply(entry)
        stored = self._host.snapshot().job_by_id(namespace, job_id)
        return JobDeregisterResponse(
            eval_id=ev.id if ev else "",
            eval_create_index=index if ev else 0,
            job_modify_index=stored.job_modify_index if stored else index,
            index=index,
        )

    async def dispatch(self, req: JobDispatchRequest) -> JobDispatchResponse:
        """Job.Dispatch: validate against the parameterized block, register the child."""
        snap = self._host.snapshot()
        parent = parameterized_parent(snap, req.namespace, req.job_id)
        found = existing_dispatch(snap, parent, req.idempotency_token)
        if found is not None:
            evals = snap.evals_by_job(found.namespace, found.id)
            return JobDispatchResponse(
                dispatched_job_id=found.id,
                eval_id=evals[0].id if evals else "",
                eval_create_index=evals[0].create_index if evals else 0,
                job_create_index=found.create_index,
                index=found.modify_index,
            )
        child = derive_dispatched(parent, req)
        resp = await self.register(child)
        stored = self._host.snapshot().job_by_id(child.namespace, child.id)
        return JobDispatchResponse(
            dispatched_job_id=child.id,
            eval_id=resp.eval_id,
            eval_create_index=resp.eval_create_index,
            job_create_index=stored.create_index if stored else resp.index,
            index=resp.index,
        )

    async def revert(self, req: JobRevertRequest) -> JobRegisterResponse:
        """Job.Revert: register an earlier version's spec again, as a new version."""
        snap = self._host.snapshot()
        current = _job_or_error(snap.job_by_id(req.namespace, req.job_id), req)
        if req.enforce_prior_version is not None and current.version != req.enforce_prior_version:
            raise ValidationError(
                f"current job has version {current.version}; enforcing version "
                f"{req.enforce_prior_version}"
            )
        if req.job_version == current.version:
            raise ValidationError(
                f'job "{req.job_id}" is already at version {req.job_version}; '
                "pick an earlier version from `nomadic job history`"
            )
        versions = snap.job_versions(req.namespace, req.job_id)
        old = next((v for v in versions if v.version == req.job_version), None)
        if old is None:
            kept = ", ".join(str(v.version) for v in versions)
            raise NotFoundError(
                f'job "{req.job_id}" has no version {req.job_version}; kept versions: {kept}'
            )
        return await self.register(msgspec.structs.replace(old, stop=False))

    async def scale(self, req: JobScaleRequest) -> JobRegisterResponse:
        """Job.Scale: set one group's count (the job gets a new version and an eval)."""
        snap = self._host.snapshot()
        job = _job_or_error(snap.job_by_id(req.namespace, req.job_id), req)
        group = req.target.get("Group", "")
        if not group:
            raise ValidationError('scale request needs a target group: {"Target": {"Group": ...}}')
        if job.is_periodic() or job.is_parameterized():
            raise ValidationError(f'job "{job.id}" is a periodic or parameterized template')
        if req.count is None:
            raise ValidationError("scale request needs a Count")
        if req.count < 0:
            raise ValidationError(f"scale count {req.count} must not be negative")
        new = msgspec.structs.replace(job, task_groups=list(job.task_groups))
        for i, tg in enumerate(new.task_groups):
            if tg.name == group:
                new.task_groups[i] = msgspec.structs.replace(tg, count=req.count)
                break
        else:
            names = ", ".join(tg.name for tg in job.task_groups)
            raise NotFoundError(f'job "{job.id}" has no task group {group!r}; groups: {names}')
        return await self.register(new)

    def scale_status(self, namespace: str, job_id: str) -> JobScaleStatusResponse:
        snap = self._host.snapshot()
        job = snap.job_by_id(namespace, job_id)
        if job is None:
            raise NotFoundError(f'job "{job_id}" not found in namespace "{namespace}"')
        groups = {tg.name: TaskGroupScaleStatus(desired=tg.count) for tg in job.task_groups}
        for alloc in snap.allocs_by_job(namespace, job_id):
            status = groups.get(alloc.task_group)
            version = alloc.job.version if alloc.job else 0
            if status is None or version != job.version or alloc.terminal():
                continue
            status.placed += 1
            if alloc.client_status == ALLOC_CLIENT_RUNNING:
                status.running += 1
        return JobScaleStatusResponse(
            job_id=job.id,
            namespace=job.namespace,
            job_create_index=job.create_index,
            job_modify_index=job.job_modify_index,
            job_stopped=job.stop,
            task_groups=groups,
        )


def _job_or_error(job: Job | None, req: JobRevertRequest | JobScaleRequest) -> Job:
    if job is None:
        raise NotFoundError(
            f'job "{req.job_id}" not found in namespace "{req.namespace}"; '
            "list jobs with `nomadic job status`"
        )
    return job


def _check_enforce_index(job: Job, existing: Job | None, expected: int) -> None:
    if expected == 0 and existing is not None:
        raise ValidationError(
            f'enforcing job modify index 0: job "{job.id}" already exists '
            f"(job modify index {existing.job_modify_index}); pass that index to update it"
        )
    if expected and existing is None:
        raise ValidationError(
            f'enforcing job modify index {expected}: job "{job.id}" does not exist; '
            "pass 0 to create it"
        )
    if existing is not None and expected and existing.job_modify_index != expected:
        raise ValidationError(
            f"enforcing job modify index {expected}: job exists with conflicting job modify "
            f"index {existing.job_modify_index}; re-read the job and retry"
        )
