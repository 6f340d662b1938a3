"""``/v1/nodes`` and ``/v1/node/:id[/allocations]``: Nomad's node endpoints.

Like Nomad, a node's ``SecretID`` is never served over HTTP.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from nomadic.errors import NotFoundError
from nomadic.http.query import Query, blocking
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Allocation, Node, NodeListStub

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
