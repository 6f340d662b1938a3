"""Job endpoint: Job.Register and Job.Deregister (Nomad's ``nomad/job_endpoint.go``)."""

from __future__ import annotations

import logging

import msgspec

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.entries import JobDeregister, JobRegister
from nomadic.structs import Job, canonicalize, validate
from nomadic.structs.consts import TRIGGER_JOB_DEREGISTER, TRIGGER_JOB_REGISTER
from nomadic.structs.requests import JobDeregisterResponse, JobRegisterResponse

from .base import Host, new_eval, now_ns

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
        existing = self._host.snapshot().job_by_id(job.namespace, job.id)
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
