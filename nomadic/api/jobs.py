"""``client.jobs``: list, read, register, stop and validate jobs (Nomad's ``api.Jobs``)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from nomadic.structs import (
    AllocListStub,
    Evaluation,
    Job,
    JobListStub,
    JobSummary,
)
from nomadic.structs.codec import Base
from nomadic.structs.requests import (
    JobDeregisterResponse,
    JobDispatchResponse,
    JobPlanResponse,
    JobRegisterResponse,
    JobScaleStatusResponse,
    PeriodicForceResponse,
)

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["JobValidateResponse", "JobVersions", "Jobs"]


class JobValidateResponse(Base):
    driver_config_validated: bool = False
    validation_errors: list[str] = msgspec.field(default_factory=list)
    error: str = ""
    warnings: str = ""


class JobVersions(Base):
    versions: list[Job] = msgspec.field(default_factory=list)
    diffs: Any = None


def _p(job_id: str) -> str:
    """A job ID as one path segment: children's IDs contain "/" (Nomad escapes it too)."""
    return quote(job_id, safe="")


class Jobs:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(
        self, prefix: str = "", *, index: int = 0, wait: float | None = None
    ) -> builtins.list[JobListStub]:
        return self._c.query(
            "/v1/jobs", list[JobListStub], params={"prefix": prefix}, index=index, wait=wait
        )

    def info(self, job_id: str, *, index: int = 0, wait: float | None = None) -> Job:
        return self._c.query(f"/v1/job/{_p(job_id)}", Job, index=index, wait=wait)

    def register(
        self, job: Job, *, enforce_index: bool = False, modify_index: int = 0
    ) -> JobRegisterResponse:
        body: dict[str, Any] = {"Job": job}
        if enforce_index:
            body.update(EnforceIndex=True, JobModifyIndex=modify_index)
        return self._c.write("PUT", "/v1/jobs", JobRegisterResponse, body)

    def plan(self, job: Job, *, diff: bool = True) -> JobPlanResponse:
        """A scheduler dry run (``PUT /v1/job/:id/plan``); nothing is changed."""
        body = {"Job": job, "Diff": diff}
        return self._c.write("PUT", f"/v1/job/{job.id}/plan", JobPlanResponse, body)

    def deregister(
        self, job_id: str, *, purge: bool = False, global_: bool = False
    ) -> JobDeregisterResponse:
        """Stop (or purge) a job; ``global_``: in every region of a multiregion job."""
        return self._c.write(
            "DELETE",
            f"/v1/job/{_p(job_id)}",
            JobDeregisterResponse,
            purge=purge,
            **{"global": global_},
        )

    def allocations(
        self, job_id: str, *, index: int = 0, wait: float | None = None
    ) -> builtins.list[AllocListStub]:
        return self._c.query(
            f"/v1/job/{_p(job_id)}/allocations", list[AllocListStub], index=index, wait=wait
        )

    def evaluations(self, job_id: str) -> builtins.list[Evaluation]:
        return self._c.query(f"/v1/job/{_p(job_id)}/evaluations", list[Evaluation])

    def summary(self, job_id: str) -> JobSummary:
        return self._c.query(f"/v1/job/{_p(job_id)}/summary", JobSummary)

    def versions(self, job_id: str) -> builtins.list[Job]:
        return self._c.query(f"/v1/job/{_p(job_id)}/versions", JobVersions).versions

    def validate(self, job: Job) -> JobValidateResponse:
        return self._c.write("PUT", "/v1/validate/job", JobValidateResponse, {"Job": job})

    def dispatch(
        self,
        job_id: str,
        *,
        payload: bytes | None = None,
        meta: dict[str, str] | None = None,
        id_prefix_template: str = "",
        idempotency_token: str = "",
    ) -> JobDispatchResponse:
        body: dict[str, Any] = {"Payload": payload, "Meta": meta or {}}
        if id_prefix_template:
            body["IdPrefixTemplate"] = id_prefix_template
        if idempotency_token:
            body["IdempotencyToken"] = idempotency_token
        return self._c.write("POST", f"/v1/job/{_p(job_id)}/dispatch", JobDispatchResponse, body)

    def periodic_force(self, job_id: str) -> PeriodicForceResponse:
        return self._c.write("POST", f"/v1/job/{_p(job_id)}/periodic/force", PeriodicForceResponse)

    def revert(
        self, job_id: str, version: int, *, enforce_prior_version: int | None = None
    ) -> JobRegisterResponse:
        body: dict[str, Any] = {"JobID": job_id, "JobVersion": version}
        if enforce_prior_version is not None:
            body["EnforcePriorVersion"] = enforce_prior_version
        return self._c.write("POST", f"/v1/job/{_p(job_id)}/revert", JobRegisterResponse, body)

    def scale(
        self, job_id: str, group: str, count: int, *, message: str = ""
    ) -> JobRegisterResponse:
        body = {"Count": count, "Target": {"Group": group}, "Message": message}
        return self._c.write("POST", f"/v1/job/{_p(job_id)}/scale", JobRegisterResponse, body)

    def scale_status(self, job_id: str) -> JobScaleStatusResponse:
        return self._c.query(f"/v1/job/{_p(job_id)}/scale", JobScaleStatusResponse)
