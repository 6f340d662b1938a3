"""``/v1/node/pools`` and ``/v1/node/pool/:name[/nodes|/jobs]``: Nomad's node pool endpoints.

Registered before ``/v1/node/:id`` so ``pools`` is never read as a node ID. Writes
(``PUT /v1/node/pools`` with a NodePool body, as Nomad's API client sends, or
``PUT /v1/node/pool/:name``) go to the authoritative region like namespaces do.
"""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import NotFoundError
from nomadic.http.jobs import job_stub
from nomadic.http.namespaces import decode_body
from nomadic.http.query import Query, blocking, json_response, read_json, server_of
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import JobListStub, NodeListStub, NodePool, from_builtins
from nomadic.structs.globalobjs import NODE_POOL_ALL, GlobalDeleteRequest, NodePoolUpsertRequest

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/node/pools")
async def list_node_pools(request: web.Request) -> web.Response:
    prefix = Query.of(request).prefix

    def read(snap: StateSnapshot) -> list[NodePool]:
        return snap.node_pools(prefix)

    return await blocking(request, ("node_pools",), read)


def _pool_or_404(snap: StateSnapshot, name: str) -> NodePool:
    pool = snap.node_pool_by_name(name)
    if pool is None:
        raise NotFoundError("node pool not found")
    return pool


@routes.get("/v1/node/pool/{name}")
async def get_node_pool(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return await blocking(request, ("node_pools",), lambda snap: _pool_or_404(snap, name))


@routes.get("/v1/node/pool/{name}/nodes")
async def node_pool_nodes(request: web.Request) -> web.Response:
    name = request.match_info["name"]

    def read(snap: StateSnapshot) -> list[NodeListStub]:
        _pool_or_404(snap, name)
        return [n.stub() for n in snap.nodes() if name in (NODE_POOL_ALL, n.node_pool)]

    return await blocking(request, ("nodes", "node_pools"), read)


@routes.get("/v1/node/pool/{name}/jobs")
async def node_pool_jobs(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    # every namespace unless ?namespace= names one (Nomad lists the pool's jobs across them)
    asked = request.query.get("namespace", "*") or "*"
    namespace = None if asked == "*" else asked

    def read(snap: StateSnapshot) -> list[JobListStub]:
        _pool_or_404(snap, name)
        return [job_stub(j, snap) for j in snap.jobs(namespace) if j.node_pool == name]

    return await blocking(request, ("jobs", "node_pools"), read)


async def _upsert(request: web.Request, url_name: str | None) -> web.Response:
    body = decode_body(await read_json(request), "NodePool", url_name)
    pool = from_builtins(body, NodePool)
    resp = await server_of(request).node_pool_upsert(NodePoolUpsertRequest(node_pools=[pool]))
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/node/pools")
@routes.post("/v1/node/pools")
async def upsert_node_pool_body(request: web.Request) -> web.Response:
    return await _upsert(request, None)


@routes.put("/v1/node/pool/{name}")
@routes.post("/v1/node/pool/{name}")
async def upsert_node_pool(request: web.Request) -> web.Response:
    return await _upsert(request, request.match_info["name"])


@routes.delete("/v1/node/pool/{name}")
async def delete_node_pool(request: web.Request) -> web.Response:
    req = GlobalDeleteRequest(names=[request.match_info["name"]])
    resp = await server_of(request).node_pool_delete(req)
    return json_response(request, resp, index=resp.index)
