"""``/v1/allocations`` and ``/v1/allocation/:id[/stop]``: Nomad's allocation endpoints."""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import NotFoundError
from nomadic.http.query import Query, blocking, json_response, server_of
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Allocation, AllocListStub

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/allocations")
async def list_allocs(request: web.Request) -> web.Response:
    prefix = Query.of(request).prefix

    def read(snap: StateSnapshot) -> list[AllocListStub]:
        return [a.stub() for a in snap.allocs(prefix)]

    return await blocking(request, ("allocs",), read)


@routes.get("/v1/allocation/{alloc_id}")
async def get_alloc(request: web.Request) -> web.Response:
    alloc_id = request.match_info["alloc_id"]

    def read(snap: StateSnapshot) -> Allocation:
        alloc = snap.alloc_by_id(alloc_id)
        if alloc is None:
            raise NotFoundError("alloc not found")
        return alloc

    return await blocking(request, ("allocs",), read)


@routes.put("/v1/allocation/{alloc_id}/stop")
@routes.post("/v1/allocation/{alloc_id}/stop")
async def stop_alloc(request: web.Request) -> web.Response:
    server = server_of(request)
    alloc_id = request.match_info["alloc_id"]
    if server.snapshot().alloc_by_id(alloc_id) is None:
        raise NotFoundError("alloc not found")
    resp = await server.alloc_stop(alloc_id)
    return json_response(request, resp, index=resp.index)
