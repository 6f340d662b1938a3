"""``/v1/operator/raft/configuration`` (the Raft peer set, as Nomad's operator API shows it),
``DELETE /v1/operator/raft/peer?address=|id=`` (remove a dead server from it),
``/v1/operator/snapshot`` (GET saves the cluster state, PUT restores it; raw bytes) and
``/v1/operator/scheduler/configuration`` (GET/PUT the scheduler configuration)."""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.query import json_response, read_json, server_of
from nomadic.structs import SchedulerConfiguration, from_builtins

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
        for m in server.raft_members()
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


@routes.get("/v1/operator/scheduler/configuration")
async def scheduler_get_config(request: web.Request) -> web.Response:
    snap = server_of(request).snapshot()
    config = snap.scheduler_config()
    index = snap.table_index("scheduler_config")
    return json_response(request, {"SchedulerConfig": config, "Index": index}, index=index)


@routes.put("/v1/operator/scheduler/configuration")
@routes.post("/v1/operator/scheduler/configuration")
async def scheduler_set_config(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object (a SchedulerConfiguration)")
    config = from_builtins(body, SchedulerConfiguration)
    resp = await server_of(request).scheduler_set_config(config)
    return json_response(request, resp, index=resp.index)
