"""``/v1/nodes`` and ``/v1/node/:id[/allocations|/drain|/eligibility]``: Nomad's node endpoints.

Like Nomad, a node's ``SecretID`` is never served over HTTP. ``PUT /v1/node/:id/drain`` takes
``{"DrainSpec": {"Deadline": ns, "IgnoreSystemJobs": bool} | null, "MarkEligible": bool,
"Meta": {}}``; ``PUT /v1/node/:id/eligibility`` takes ``{"Eligibility": "eligible"}``.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from nomadic.errors import NotFoundError, ValidationError
from nomadic.http.query import Query, blocking, json_response, read_json, server_of
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Allocation, Node, NodeListStub, from_builtins
from nomadic.structs.requests import NodeUpdateDrainRequest, NodeUpdateEligibilityRequest

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/nodes")
async def list_nodes(request: web.Request) -> web.Response:
    prefix = Query.of(request).prefix

    def read(snap: StateSnapshot) -> list[NodeListStub]:
        return [n.stub() for n in snap.nodes(prefix)]

    return await blocking(request, ("nodes",), read)


@routes.get("/v1/node/{node_id}")
async def get_node(request: web.Request) -> web.Response:
    node_id = request.match_info["node_id"]

    def read(snap: StateSnapshot) -> Node:
        node = snap.node_by_id(node_id)
        if node is None:
            raise NotFoundError("node not found")
        return msgspec.structs.replace(node, secret_id="")

    return await blocking(request, ("nodes",), read)


@routes.get("/v1/node/{node_id}/allocations")
async def node_allocs(request: web.Request) -> web.Response:
    node_id = request.match_info["node_id"]

    def read(snap: StateSnapshot) -> list[Allocation]:
        if snap.node_by_id(node_id) is None:
            raise NotFoundError("node not found")
        return snap.allocs_by_node(node_id)

    return await blocking(request, ("allocs",), read)


def _node_id(request: web.Request) -> str:
    """The full node ID for the URL's ID or unique ID prefix (as Nomad resolves it)."""
    given = request.match_info["node_id"]
    snap = server_of(request).snapshot()
    if snap.node_by_id(given) is not None:
        return given
    found = snap.nodes(given)
    if len(found) == 1:
        return found[0].id
    if not found:
        raise NotFoundError(f"node {given} not found")
    raise ValidationError(f"node ID prefix {given!r} is ambiguous: give more characters")


@routes.put("/v1/node/{node_id}/drain")
@routes.post("/v1/node/{node_id}/drain")
async def drain_node(request: web.Request) -> web.Response:
    node_id = _node_id(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object with a DrainSpec")
    req = from_builtins({**body, "NodeID": node_id}, NodeUpdateDrainRequest)
    resp = await server_of(request).node_update_drain(req)
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/node/{node_id}/eligibility")
@routes.post("/v1/node/{node_id}/eligibility")
async def node_eligibility(request: web.Request) -> web.Response:
    node_id = _node_id(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("Eligibility"), str):
        raise ValidationError('request body must be {"Eligibility": "eligible" | "ineligible"}')
    req = from_builtins({**body, "NodeID": node_id}, NodeUpdateEligibilityRequest)
    resp = await server_of(request).node_update_eligibility(req)
    return json_response(request, resp, index=resp.index)
