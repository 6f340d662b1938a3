"""``/v1/client/allocation/:id/stats`` and ``/v1/client/stats``: resource usage on a client.

Allocation stats for an allocation on another node are proxied there (:mod:`.forward`).
"""

from __future__ import annotations

from aiohttp import web

from nomadic.http.forward import forwardable
from nomadic.http.query import client_of, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/client/allocation/{alloc_id}/stats")
@forwardable
async def alloc_stats(request: web.Request) -> web.StreamResponse:
    stats = await client_of(request).alloc_stats(request.match_info["alloc_id"])
    return json_response(request, stats)


@routes.get("/v1/client/stats")
async def host_stats(request: web.Request) -> web.Response:
    return json_response(request, client_of(request).host_stats())
