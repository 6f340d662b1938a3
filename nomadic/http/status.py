"""``/v1/status/leader``, ``/v1/status/peers`` and ``/v1/regions``."""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import NoLeaderError
from nomadic.http.query import json_response, server_of

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/status/leader")
async def leader(request: web.Request) -> web.Response:
    addr = server_of(request).leader_addr()
    if not addr:
        raise NoLeaderError()
    return json_response(request, addr)


@routes.get("/v1/status/peers")
async def peers(request: web.Request) -> web.Response:
    return json_response(request, server_of(request).peers())


@routes.get("/v1/regions")
async def regions(request: web.Request) -> web.Response:
    return json_response(request, server_of(request).regions())
