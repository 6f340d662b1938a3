"""``/v1/deployments``, ``/v1/deployment/...`` and ``/v1/job/:id/deployment(s)``: Nomad's
deployment endpoints (``command/agent/deployment_endpoint.go``).

Reads are blocking queries on the ``deployments`` table; writes (``pause``, ``promote``,
``fail``, ``run``, ``unblock``, ``allocation-health``) go to the leader through the
``ServerAPI``. A URL's deployment ID must match the body's ``DeploymentID`` when both are set.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from nomadic.errors import NotFoundError, ValidationError
from nomadic.http.query import Query, blocking, json_response, read_json, server_of
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import AllocListStub, Deployment, from_builtins
from nomadic.structs.deployment import (
    DeploymentAllocHealthRequest,
    DeploymentPauseRequest,
    DeploymentPromoteRequest,
    DeploymentRequest,
)

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/deployments")
async def list_deployments(request: web.Request) -> web.Response:
    query = Query.of(request)
    everywhere = request.query.get("namespace") == "*"

    def read(snap: StateSnapshot) -> list[Deployment]:
        return [
            d
            for d in snap.deployments(query.prefix)
            if everywhere or d.namespace == query.namespace
        ]

    return await blocking(request, ("deployments",), read)


def _deployment(snap: StateSnapshot, deployment_id: str) -> Deployment:
    d = snap.deployment_by_id(deployment_id)
    if d is None:
        found = snap.deployments(deployment_id) if len(deployment_id) < 36 else []
        if len(found) == 1:  # a unique ID prefix, as Nomad's CLI resolves them
            return found[0]
        raise NotFoundError("deployment not found")
    return d


@routes.get("/v1/deployment/allocations/{deployment_id}")
async def deployment_allocations(request: web.Request) -> web.Response:
    deployment_id = request.match_info["deployment_id"]

    def read(snap: StateSnapshot) -> list[AllocListStub]:
        d = _deployment(snap, deployment_id)
        return [
            a.stub() for a in snap.allocs_by_job(d.namespace, d.job_id) if a.deployment_id == d.id
        ]

    return await blocking(request, ("allocs", "deployments"), read)


@routes.get("/v1/deployment/{deployment_id}")
async def get_deployment(request: web.Request) -> web.Response:
    deployment_id = request.match_info["deployment_id"]
    return await blocking(request, ("deployments",), lambda s: _deployment(s, deployment_id))


@routes.get("/v1/job/{job_id}/deployments")
async def job_deployments(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace
    # newest first, as Nomad lists them
    return await blocking(
        request, ("deployments",), lambda s: s.deployments_by_job(ns, job_id)[::-1]
    )


@routes.get("/v1/job/{job_id}/deployment")
async def job_latest_deployment(request: web.Request) -> web.Response:
    job_id, ns = request.match_info["job_id"], Query.of(request).namespace
    return await blocking(
        request, ("deployments",), lambda s: s.latest_deployment_by_job(ns, job_id)
    )


async def _body(request: web.Request, cls: type[Any]) -> Any:
    deployment_id = request.match_info["deployment_id"]
    raw = await request.read()
    body = await read_json(request) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValidationError("deployment request body must be a JSON object")
    try:
        req = from_builtins(body, cls)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"malformed deployment request: {exc}") from None
    if req.deployment_id and req.deployment_id != deployment_id:
        raise ValidationError(
            f"deployment ID {req.deployment_id!r} does not match the URL's {deployment_id!r}"
        )
    full = _deployment(server_of(request).snapshot(), deployment_id).id
    return msgspec.structs.replace(req, deployment_id=full)


@routes.put("/v1/deployment/pause/{deployment_id}")
@routes.post("/v1/deployment/pause/{deployment_id}")
async def pause(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentPauseRequest)
    resp = await server_of(request).deployment_pause(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/deployment/promote/{deployment_id}")
@routes.post("/v1/deployment/promote/{deployment_id}")
async def promote(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentPromoteRequest)
    resp = await server_of(request).deployment_promote(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/deployment/fail/{deployment_id}")
@routes.post("/v1/deployment/fail/{deployment_id}")
async def fail(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentRequest)
    resp = await server_of(request).deployment_fail(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/deployment/run/{deployment_id}")
@routes.post("/v1/deployment/run/{deployment_id}")
async def run(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentRequest)
    resp = await server_of(request).deployment_run(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/deployment/unblock/{deployment_id}")
@routes.post("/v1/deployment/unblock/{deployment_id}")
async def unblock(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentRequest)
    resp = await server_of(request).deployment_unblock(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/deployment/allocation-health/{deployment_id}")
@routes.post("/v1/deployment/allocation-health/{deployment_id}")
async def allocation_health(request: web.Request) -> web.Response:
    req = await _body(request, DeploymentAllocHealthRequest)
    resp = await server_of(request).deployment_alloc_health(req)
    return json_response(request, resp, index=resp.index)
