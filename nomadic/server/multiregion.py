"""Multiregion jobs: registering and stopping one job in every region its ``multiregion`` lists.

    Job.Register(job with multiregion { region "eu" {...} region "us" {...} })
      check: valid block, every listed region has a live server       (nothing written if not)
      for each region, in order: regionalize(job, region) --Job.Register--> that region
          Region = the region's name; datacenters / node_pool from the region when given;
          the region's meta over the job's; its count on groups that kept the default 1
    Job.Deregister(?global=true): the job's regions, each stopped (or purged) in turn

Each region keeps its own copy, versions and evaluations (regions share no state); the copy
keeps the ``multiregion`` block, so any region can tell the others of the job. The response
is the one of the region that took the request (the first listed when it is not one of them).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nomadic.errors import NomadicError, NotFoundError, ValidationError
from nomadic.structs import Job
from nomadic.structs.codec import clone
from nomadic.structs.requests import (
    JobDeregisterResponse,
    JobRegisterRequest,
    JobRegisterResponse,
)

if TYPE_CHECKING:
    from .server import Server

__all__ = [
    "ON_FAILURE",
    "deregister_global",
    "regionalize",
    "register_multiregion",
    "validate_multiregion",
]

log = logging.getLogger(__name__)

ON_FAILURE = ("", "fail_all", "fail_local")
DEFAULT_GROUP_COUNT = 1  # a group count nobody set: the region's count applies


def validate_multiregion(job: Job) -> list[str]:
    """What is wrong with the job's ``multiregion`` block (empty when fine)."""
    multi = job.multiregion
    if multi is None:
        return []
    where = f"job {job.id!r}: multiregion"
    errors = []
    if not multi.regions:
        errors.append(f'{where}: needs at least one region "<name>" block')
    seen: set[str] = set()
    for region in multi.regions:
        if not region.name:
            errors.append(f"{where}: a region block has no name")
        elif region.name in seen:
            errors.append(f'{where}: region "{region.name}" is listed twice')
        seen.add(region.name)
        if region.count < 0:
            errors.append(f'{where}: region "{region.name}": count must not be negative')
    if multi.strategy is not None:
        if multi.strategy.on_failure not in ON_FAILURE:
            errors.append(
                f"{where}: strategy on_failure = {multi.strategy.on_failure!r}: use "
                '"fail_all", "fail_local" or leave it out (fail this region and the later ones)'
            )
        if multi.strategy.max_parallel < 0:
            errors.append(f"{where}: strategy max_parallel must not be negative")
    return errors


def regionalize(job: Job, region: str) -> Job:
    """The copy of a multiregion ``job`` that ``region`` runs (pure)."""
    assert job.multiregion is not None
    spec = next((r for r in job.multiregion.regions if r.name == region), None)
    if spec is None:
        raise ValidationError(f"job {job.id!r}: region {region!r} is not in its multiregion")
    copy = clone(job)
    copy.region = region
    if spec.datacenters:
        copy.datacenters = list(spec.datacenters)
    if spec.node_pool:
        copy.node_pool = spec.node_pool
    copy.meta = {**job.meta, **spec.meta}
    if spec.count:
        for tg in copy.task_groups:
            if tg.count == DEFAULT_GROUP_COUNT:
                tg.count = spec.count
    return copy


async def register_multiregion(server: Server, job: Job) -> JobRegisterResponse:
    """Register ``job``'s regional copy in every region it lists (see the module docstring)."""
    errors = validate_multiregion(job)
    if errors:
        raise ValidationError(errors)
    assert job.multiregion is not None
    names = [r.name for r in job.multiregion.regions]
    for name in names:  # refuse before writing anywhere when a region cannot be reached
        if name != server.region:
            server.region_http_addrs(name)
    answers: dict[str, JobRegisterResponse] = {}
    failed: list[str] = []
    for name in names:
        copy = regionalize(job, name)
        try:
            if name == server.region:
                answers[name] = await server.job_register_local(copy)
            else:
                answers[name] = await server.region_rpc(
                    name, "Job.Register", JobRegisterRequest(job=copy), JobRegisterResponse
                )
        except NomadicError as exc:
            log.warning("multiregion job %s: region %s refused it: %s", job.id, name, exc)
            failed.append(f"{name}: {exc}")
    if failed:
        done = ", ".join(answers) or "none"
        raise NomadicError(
            f"multiregion job {job.id!r} was not registered in every region "
            f"(registered in: {done}); errors: {'; '.join(failed)}"
        )
    return answers.get(server.region) or answers[names[0]]


async def deregister_global(
    server: Server, namespace: str, job_id: str, *, purge: bool
) -> JobDeregisterResponse:
    """``job stop -global``: stop the job in each region its multiregion block lists."""
    from nomadic.rpc.wire import JobDeregisterRequest

    job = server.snapshot().job_by_id(namespace, job_id)
    if job is None:
        raise NotFoundError("job not found")
    names = [r.name for r in job.multiregion.regions] if job.multiregion else [server.region]
    answers: dict[str, JobDeregisterResponse] = {}
    failed = []
    for name in names:
        try:
            if name == server.region:
                answers[name] = await server.job_deregister(namespace, job_id, purge=purge)
            else:
                req = JobDeregisterRequest(namespace=namespace, job_id=job_id, purge=purge)
                answers[name] = await server.region_rpc(
                    name, "Job.Deregister", req, JobDeregisterResponse
                )
        except NomadicError as exc:
            failed.append(f"{name}: {exc}")
    if failed:
        done = ", ".join(answers) or "none"
        raise NomadicError(
            f"job {job_id!r} was not stopped in every region (stopped in: {done}); "
            f"errors: {'; '.join(failed)}"
        )
    return answers.get(server.region) or answers[names[0]]
