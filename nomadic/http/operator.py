"""``/v1/operator/raft/configuration`` (the Raft peer set, as Nomad's operator API shows it),
``DELETE /v1/operator/raft/peer?address=|id=`` (remove a dead server from it) and
``/v1/operator/snapshot`` (GET saves the cluster state, PUT restores it; raw bytes)."""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import ValidationError
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


@routes.delete("/v1/operator/raft/peer")
async def raft_remove_peer(request: web.Request) -> web.Response:
    """Nomad answers 200 with an empty body; peers are named by ``address`` or ``id`` (the
    Raft address in nomadic, as list-peers shows both)."""
    address = request.query.get("address", "")
    peer_id = request.query.get("id", "")
    if bool(address) == bool(peer_id):
        raise ValidationError(
            "Must specify either ?id with the server's ID or ?address with IP:port"
        )
    await server_of(request).raft_remove_peer(address or peer_id)
    return web.Response(status=200)


@routes.get("/v1/operator/snapshot")
async def snapshot_save(request: web.Request) -> web.Response:
    data = await server_of(request).snapshot_save()
    return web.Response(body=data, content_type="application/octet-stream")


@routes.put("/v1/operator/snapshot")
async def snapshot_restore(request: web.Request) -> web.Response:
    index = await server_of(request).snapshot_restore(await request.read())
    return json_response(request, {"Index": index}, index=index)
