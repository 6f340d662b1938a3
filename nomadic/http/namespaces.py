"""``/v1/namespaces`` and ``/v1/namespace[/:name]``: Nomad's namespace endpoints.

``PUT /v1/namespace/:name`` (or ``/v1/namespace`` with the body's ``Name``) takes a Namespace
object; a write in a region that is not authoritative is forwarded to the authoritative one
(``Server.namespace_upsert``), and appears here once replicated.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nomadic.errors import NotFoundError, ValidationError
from nomadic.http.query import Query, blocking, json_response, read_json, server_of
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Namespace, from_builtins
from nomadic.structs.globalobjs import GlobalDeleteRequest, NamespaceUpsertRequest

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/namespaces")
async def list_namespaces(request: web.Request) -> web.Response:
    prefix = Query.of(request).prefix

    def read(snap: StateSnapshot) -> list[Namespace]:
        return snap.namespaces(prefix)

    return await blocking(request, ("namespaces",), read)


@routes.get("/v1/namespace/{name}")
async def get_namespace(request: web.Request) -> web.Response:
    name = request.match_info["name"]

    def read(snap: StateSnapshot) -> Namespace:
        ns = snap.namespace_by_name(name)
        if ns is None:
            raise NotFoundError("namespace not found")
        return ns

    return await blocking(request, ("namespaces",), read)


def decode_body(body: Any, what: str, url_name: str | None) -> dict[str, Any]:
    """The object of a namespace/node pool write, its ``Name`` checked against the path."""
    if not isinstance(body, dict):
        raise ValidationError(f"request body must be a JSON object (a {what})")
    name = body.get("Name") or ""
    if url_name is not None:
        if name and name != url_name:
            raise ValidationError(
                f"{what} name {name!r} in the body does not match {url_name!r} in the path"
            )
        body = {**body, "Name": url_name}
    elif not name:
        raise ValidationError(f'{what} needs a "Name"')
    checked: dict[str, Any] = body
    return checked


async def _upsert(request: web.Request, url_name: str | None) -> web.Response:
    body = decode_body(await read_json(request), "Namespace", url_name)
    ns = from_builtins(body, Namespace)
    resp = await server_of(request).namespace_upsert(NamespaceUpsertRequest(namespaces=[ns]))
    return json_response(request, resp, index=resp.index)


@routes.put("/v1/namespace")
@routes.post("/v1/namespace")
async def upsert_namespace_body(request: web.Request) -> web.Response:
    return await _upsert(request, None)


@routes.put("/v1/namespace/{name}")
@routes.post("/v1/namespace/{name}")
async def upsert_namespace(request: web.Request) -> web.Response:
    return await _upsert(request, request.match_info["name"])


@routes.delete("/v1/namespace/{name}")
async def delete_namespace(request: web.Request) -> web.Response:
    req = GlobalDeleteRequest(names=[request.match_info["name"]])
    resp = await server_of(request).namespace_delete(req)
    return json_response(request, resp, index=resp.index)
