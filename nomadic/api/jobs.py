"""``client.jobs``: list, read, register, stop and validate jobs (Nomad's ``api.Jobs``)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

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
    JobPlanResponse,
    JobRegisterResponse,
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
        return self._c.query(f"/v1/job/{job_id}", Job, index=index, wait=wait)

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

    def deregister(self, job_id: str, *, purge: bool = False) -> JobDeregisterResponse:
        return self._c.write("DELETE", f"/v1/job/{job_id}", JobDeregisterResponse, purge=purge)

    def allocations(
        self, job_id: str, *, index: int = 0, wait: float | None = None
    ) -> builtins.list[AllocListStub]:
        return self._c.query(
            f"/v1/job/{job_id}/allocations", list[AllocListStub], index=index, wait=wait
        )

    def evaluations(self, job_id: str) -> builtins.list[Evaluation]:
        return self._c.query(f"/v1/job/{job_id}/evaluations", list[Evaluation])

    def summary(self, job_id: str) -> JobSummary:
        return self._c.query(f"/v1/job/{job_id}/summary", JobSummary)

    def versions(self, job_id: str) -> builtins.list[Job]:
        return self._c.query(f"/v1/job/{job_id}/versions", JobVersions).versions

    def validate(self, job: Job) -> JobValidateResponse:
        return self._c.write("PUT", "/v1/validate/job", JobValidateResponse, {"Job": job})
