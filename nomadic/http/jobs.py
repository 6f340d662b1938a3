"""``/v1/jobs``, ``/v1/job/:id[/...]`` and ``/v1/validate/job``: Nomad's job endpoints."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nomadic.errors import NotFoundError, ValidationError
from nomadic.http.query import Query, blocking, flag, json_response, read_json, server_of
from nomadic.http.region import region_for_job
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Job, JobListStub, canonicalize, from_builtins, validate
from nomadic.structs.canonicalize import format_warnings, warnings
from nomadic.structs.requests import JobPlanRequest, JobRegisterRequest

__all__ = ["job_stub", "routes"]

routes = web.RouteTableDef()


def job_stub(job: Job, snap: StateSnapshot) -> JobListStub:
    """Nomad's ``JobListStub``: what ``GET /v1/jobs`` shows of each job."""
    return JobListStub(
        id=job.id,
        parent_id=job.parent_id,
        name=job.name,
        namespace=job.namespace,
        datacenters=job.datacenters,
        type=job.type,
        priority=job.priority,
        periodic=job.is_periodic(),
        parameterized_job=job.is_parameterized(),
        stop=job.stop,
        status=job.status,
        status_description=job.status_description,
        job_summary=snap.job_summary(job.namespace, job.id),
        create_index=job.create_index,
        modify_index=job.modify_index,
        job_modify_index=job.job_modify_index,
        submit_time=job.submit_time,
    )


def _decode_register(body: Any) -> JobRegisterRequest:
    if not isinstance(body, dict) or not isinstance(body.get("Job"), dict):
        raise ValidationError('request body must be a JSON object with a "Job" object')
    return from_builtins(body, JobRegisterRequest)


def _job_or_404(snap: StateSnapshot, namespace: str, job_id: str) -> Job:
    job = snap.job_by_id(namespace, job_id)
    if job is None:
        raise NotFoundError("job not found")
    return job


@routes.get("/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    query = Query.of(request)
    namespace = None if query.namespace == "*" else query.namespace

    def read(snap: StateSnapshot) -> list[JobListStub]:
        return [job_stub(j, snap) for j in snap.jobs(namespace, query.prefix)]

    return await blocking(request, ("jobs", "job_summary"), read)


async def _register(request: web.Request, url_id: str | None) -> web.Response:
    body = await read_json(request)
    req = _decode_register(body)
    if url_id is not None and req.job.id != url_id:
        raise ValidationError(f"job ID {req.job.id!r} does not match the URL's {url_id!r}")
    server = server_of(request)
    multi = req.job.multiregion
    _, req.job.region = region_for_job(
        req.job.region,
        [r.name for r in multi.regions] if multi is not None else [],
        query_region=request.query.get("region", ""),
        api_region=str(body.get("Region") or ""),
        agent_region=server.region,
    )
    resp = await server.job_register(
        req.job, enforce_index=req.enforce_index, job_modify_index=req.job_modify_index
    )
    resp.warnings = resp.warnings or format_warnings(warnings(req.job))
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/jobs")
@routes.post("/v1/jobs")
async def register_jobs(request: web.Request) -> web.Response:
    return await _register(request, None)


@routes.get("/v1/job/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace
    return await blocking(request, ("jobs",), lambda s: _job_or_404(s, ns, job_id))


@routes.put("/v1/job/{job_id}")
@routes.post("/v1/job/{job_id}")
async def register_job(request: web.Request) -> web.Response:
    return await _register(request, request.match_info["job_id"])


@routes.put("/v1/job/{job_id}/plan")
@routes.post("/v1/job/{job_id}/plan")
async def plan_job(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("Job"), dict):
        raise ValidationError('request body must be a JSON object with a "Job" object')
    req = from_builtins(body, JobPlanRequest)
    url_id = request.match_info["job_id"]
    if req.job.id != url_id:
        raise ValidationError(f"job ID {req.job.id!r} does not match the URL's {url_id!r}")
    resp = await server_of(request).job_plan(req.job, diff=req.diff)
    return json_response(request, resp, index=resp.index)


@routes.delete("/v1/job/{job_id}")
async def deregister_job(request: web.Request) -> web.Response:
    query = Query.of(request)
    resp = await server_of(request).job_deregister(
        query.namespace,
        request.match_info["job_id"],
        purge=flag(request, "purge"),
        global_=flag(request, "global"),
    )
    return json_response(request, resp, index=resp.index)


@routes.get("/v1/job/{job_id}/allocations")
async def job_allocations(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace
    return await blocking(
        request, ("allocs",), lambda s: [a.stub() for a in s.allocs_by_job(ns, job_id)]
    )


@routes.get("/v1/job/{job_id}/evaluations")
async def job_evaluations(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace
    return await blocking(request, ("evals",), lambda s: s.evals_by_job(ns, job_id))


@routes.get("/v1/job/{job_id}/summary")
async def job_summary(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace

    def read(snap: StateSnapshot) -> Any:
        summary = snap.job_summary(ns, job_id)
        if summary is None:
            raise NotFoundError("job not found")
        return summary

    return await blocking(request, ("job_summary",), read)


@routes.get("/v1/job/{job_id}/versions")
async def job_versions(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace

    def read(snap: StateSnapshot) -> dict[str, Any]:
        _job_or_404(snap, ns, job_id)
        return {"Versions": snap.job_versions(ns, job_id), "Diffs": None}

    return await blocking(request, ("jobs", "job_version"), read)


@routes.put("/v1/validate/job")
@routes.post("/v1/validate/job")
async def validate_job(request: web.Request) -> web.Response:
    req = _decode_register(await read_json(request))
    errors = validate(canonicalize(req.job))
    message = ""
    if errors:
        message = str(ValidationError(errors))
    body = {
        "DriverConfigValidated": False,
        "ValidationErrors": errors,
        "Error": message,
        "Warnings": format_warnings(warnings(req.job)),
    }
    return json_response(request, body)
