"""``/v1/agent/self``, ``/v1/agent/members`` and ``/v1/agent/health``: the agent describing itself.

``agent_info`` (given to ``build_app``) is a plain dict the agent fills: ``name``, ``region``,
``datacenter`` and ``version`` (missing ones fall back to the server's values); any other
snake_case key (``data_dir``, ``bind_addr``, ``ports``, ``dev_mode`` ...) appears in the
``config`` object under Nomad's PascalCase name (``DataDir``, ``Ports.HTTP`` ...).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nomadic.http.agent import ClientAPI, ServerAPI
from nomadic.http.query import AGENT_INFO, CLIENT, SERVER, json_response, server_of
from nomadic.structs.codec import pascal

__all__ = ["routes"]

routes = web.RouteTableDef()


def _roles(request: web.Request) -> tuple[ServerAPI | None, ClientAPI | None]:
    return request.app[SERVER], request.app[CLIENT]


def _info(request: web.Request) -> dict[str, Any]:
    server, _ = _roles(request)
    info: dict[str, Any] = request.app[AGENT_INFO].copy()
    info.setdefault("region", server.region if server else "global")
    info.setdefault("datacenter", server.datacenter if server else "dc1")
    info.setdefault("name", "nomadic")
    info.setdefault("version", _version())
    return info


_OWN_KEYS = frozenset({"name", "region", "datacenter", "version", "server", "client"})


def _pascal_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {pascal(str(k)): _pascal_keys(v) for k, v in value.items()}
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nomadic-scheduler")
    except PackageNotFoundError:
        return "0.0.0"


@routes.get("/v1/agent/self")
async def agent_self(request: web.Request) -> web.Response:
    server, client = _roles(request)
    info = _info(request)
    config: dict[str, Any] = {
        "Region": info["region"],
        "Datacenter": info["datacenter"],
        "NodeName": info["name"],
        "Version": {"Version": info["version"], "VersionPrerelease": "", "Revision": ""},
        "Server": {"Enabled": server is not None},
        "Client": {"Enabled": client is not None},
    }
    config.update(_pascal_keys({k: v for k, v in info.items() if k not in _OWN_KEYS}))
    member: dict[str, Any] = {"Name": info["name"], "Status": "alive", "Tags": {}}
    if server is not None:
        me = next((m for m in server.members() if m.name.startswith(info["name"])), None)
        if me is not None:
            member = {
                "Name": me.name,
                "Addr": me.addr,
                "Port": me.port,
                "Status": me.status,
                "Tags": me.tags,
            }
    stats: dict[str, Any] = {
        "nomad": {
            "server": str(server is not None).lower(),
            "leader_addr": server.leader_addr() if server else "",
        }
    }
    if server is not None:
        stats["raft"] = server.raft_stats()
    if client is not None:
        stats["client"] = {"node_id": client.node_id}
    return json_response(request, {"config": config, "member": member, "stats": stats})


@routes.get("/v1/agent/members")
async def agent_members(request: web.Request) -> web.Response:
    server = server_of(request)
    info = _info(request)
    body = {
        "ServerName": info["name"],
        "ServerRegion": server.region,
        "ServerDC": server.datacenter,
        "Members": server.members(),
    }
    return json_response(request, body)


@routes.put("/v1/agent/join")
@routes.post("/v1/agent/join")
async def agent_join(request: web.Request) -> web.Response:
    """Federate with other servers (``?address=`` once per server, their RPC host:port);
    Nomad's answer: how many were joined and the errors of the others."""
    from nomadic.errors import ValidationError

    addresses = request.query.getall("address", [])
    if not addresses:
        raise ValidationError("?address is required: the RPC address (host:port) of a server")
    joined, error = await server_of(request).join(list(addresses))
    return json_response(request, {"num_joined": joined, "error": error})


@routes.put("/v1/agent/force-leave")
@routes.post("/v1/agent/force-leave")
async def agent_force_leave(request: web.Request) -> web.Response:
    """Mark a dead server ``left`` (``?node=<name>``, as ``server members`` shows it)."""
    from nomadic.errors import NotFoundError, ValidationError

    name = request.query.get("node", "")
    if not name:
        raise ValidationError("?node is required: the server's name as server members shows it")
    if not server_of(request).force_leave(name):
        raise NotFoundError(f"no server named {name!r} is known; see nomadic server members")
    return web.Response(status=200)


@routes.get("/v1/agent/health")
async def agent_health(request: web.Request) -> web.Response:
    server, client = _roles(request)
    body: dict[str, Any] = {}
    healthy = True
    if client is not None:
        body["client"] = {"ok": True, "message": "ok"}
    if server is not None:
        ok = bool(server.leader_addr())
        healthy = healthy and ok
        body["server"] = {"ok": ok, "message": "ok" if ok else "No cluster leader"}
    return json_response(request, body, status=200 if healthy else 500)
