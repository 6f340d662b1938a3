"""``/v1/operator/raft/configuration`` (the Raft peer set, as Nomad's operator API shows it)
and ``/v1/operator/snapshot`` (GET saves the cluster state, PUT restores it; raw bytes)."""

from __future__ import annotations

from aiohttp import web

from nomadic.http.query import json_response, server_of

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/operator/raft/configuration")
async def raft_configuration(request: web.Request) -> web.Response:
    server = server_of(request)
    servers = [
        {
            "ID": m.tags.get("raft_addr", f"{m.addr}:{m.port}"),
            "Node": m.name,
            "Address": m.tags.get("raft_addr", f"{m.addr}:{m.port}"),
            "Leader": m.tags.get("leader") == "true",
            "Voter": True,
            "RaftProtocol": m.tags.get("raft_vsn", "3"),
        }
        for m in server.members()
    ]
    index = server.snapshot().latest_index()
    return json_response(request, {"Index": index, "Servers": servers}, index=index)


@routes.get("/v1/operator/snapshot")
async def snapshot_save(request: web.Request) -> web.Response:
    data = await server_of(request).snapshot_save()
    return web.Response(body=data, content_type="application/octet-stream")


@routes.put("/v1/operator/snapshot")
async def snapshot_restore(request: web.Request) -> web.Response:
    index = await server_of(request).snapshot_restore(await request.read())
    return json_response(request, {"Index": index}, index=index)
