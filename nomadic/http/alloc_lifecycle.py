"""``/v1/client/allocation/:id/{signal,restart}``: act on a running allocation's tasks.

``signal`` takes ``{"Task", "Signal"}`` (no task: every task); ``restart`` takes
``{"TaskName", "AllTasks"}`` (neither: the running tasks). Both answer ``{}`` once the client
has acted, and are proxied to the node that runs the allocation (:mod:`.forward`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.forward import forwardable
from nomadic.http.query import client_of, json_response, read_json

__all__ = ["routes"]

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    if not (await request.read()).strip():
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string, got {value!r}")
    return value


@routes.post("/v1/client/allocation/{alloc_id}/signal")
@routes.put("/v1/client/allocation/{alloc_id}/signal")
@forwardable
async def alloc_signal(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    signal = _string(body, "Signal") or "SIGKILL"  # the CLI's default, for bare API calls
    await client_of(request).alloc_signal(
        request.match_info["alloc_id"], _string(body, "Task"), signal
    )
    return json_response(request, {})


@routes.post("/v1/client/allocation/{alloc_id}/restart")
@routes.put("/v1/client/allocation/{alloc_id}/restart")
@forwardable
async def alloc_restart(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    all_tasks = body.get("AllTasks", False)
    if not isinstance(all_tasks, bool):
        raise ValidationError(f"AllTasks must be true or false, got {all_tasks!r}")
    await client_of(request).alloc_restart(
        request.match_info["alloc_id"], _string(body, "TaskName"), all_tasks
    )
    return json_response(request, {})
