"""``/v1/job/:id/{dispatch,periodic/force,revert,scale}``: acting on a job beyond register and
stop (Nomad's ``command/agent/job_endpoint.go``). Writes go to the leader through the
``ServerAPI``; a child job's ID contains ``/`` and arrives URL-escaped (``%2F``)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.query import Query, json_response, read_json, server_of
from nomadic.structs import from_builtins
from nomadic.structs.requests import JobDispatchRequest, JobRevertRequest, JobScaleRequest

__all__ = ["routes"]

routes = web.RouteTableDef()


def _body(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError(f"{what} request body must be a JSON object")
    return raw


def _decode(body: dict[str, Any], cls: type[Any], what: str) -> Any:
    try:
        return from_builtins(body, cls)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"malformed {what} request: {exc}") from None


@routes.put("/v1/job/{job_id}/dispatch")
@routes.post("/v1/job/{job_id}/dispatch")
async def dispatch_job(request: web.Request) -> web.Response:
    job_id, query = request.match_info["job_id"], Query.of(request)
    raw = await request.read()
    body = _body(await read_json(request), "dispatch") if raw.strip() else {}
    req: JobDispatchRequest = _decode(body, JobDispatchRequest, "dispatch")
    token = request.query.get("idempotency_token", "")
    req = msgspec.structs.replace(
        req,
        job_id=job_id,
        namespace=query.namespace,
        idempotency_token=req.idempotency_token or token,
    )
    resp = await server_of(request).job_dispatch(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/job/{job_id}/periodic/force")
@routes.post("/v1/job/{job_id}/periodic/force")
async def periodic_force(request: web.Request) -> web.Response:
    job_id, query = request.match_info["job_id"], Query.of(request)
    resp = await server_of(request).job_periodic_force(query.namespace, job_id)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/job/{job_id}/revert")
@routes.post("/v1/job/{job_id}/revert")
async def revert_job(request: web.Request) -> web.Response:
    job_id, query = request.match_info["job_id"], Query.of(request)
    body = _body(await read_json(request), "revert")
    req: JobRevertRequest = _decode(body, JobRevertRequest, "revert")
    if req.job_id and req.job_id != job_id:
        raise ValidationError(f"job ID {req.job_id!r} does not match the URL's {job_id!r}")
    req = msgspec.structs.replace(req, job_id=job_id, namespace=query.namespace)
    resp = await server_of(request).job_revert(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/job/{job_id}/scale")
@routes.post("/v1/job/{job_id}/scale")
async def scale_job(request: web.Request) -> web.Response:
    job_id, query = request.match_info["job_id"], Query.of(request)
    body = _body(await read_json(request), "scale")
    req: JobScaleRequest = _decode(body, JobScaleRequest, "scale")
    req = msgspec.structs.replace(req, job_id=job_id, namespace=query.namespace)
    resp = await server_of(request).job_scale(req)
    return json_response(request, resp, index=resp.index)


@routes.get("/v1/job/{job_id}/scale")
async def scale_status(request: web.Request) -> web.Response:
    job_id, query = request.match_info["job_id"], Query.of(request)
    server = server_of(request)
    resp = server.job_scale_status(query.namespace, job_id)
    return json_response(request, resp, index=server.snapshot().table_index("jobs"))
