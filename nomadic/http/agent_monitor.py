"""``GET /v1/agent/monitor``: stream this agent's log as it is written.

Query: ``log_level`` (TRACE, DEBUG, INFO, WARN, ERROR; default INFO), ``log_json`` (JSON
lines), ``plain`` (raw lines instead of Nomad's frames). Nomad answers a stream of
``StreamFrame`` objects ``{"Data": "<base64 of some log lines>"}``, one JSON object per write;
that is the default here too, so Nomad's API clients can follow it.
"""

from __future__ import annotations

import base64
import json

from aiohttp import web

from nomadic.agent.logs import broadcaster, level_number
from nomadic.errors import ValidationError
from nomadic.http.query import flag

__all__ = ["routes"]

routes = web.RouteTableDef()

BATCH_LINES = 256  # lines sent in one frame when the log is busy


@routes.get("/v1/agent/monitor")
async def agent_monitor(request: web.Request) -> web.StreamResponse:
    try:
        level = level_number(request.query.get("log_level", "INFO") or "INFO")
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    plain = flag(request, "plain")
    sub = broadcaster.subscribe(level, flag(request, "log_json"))
    try:
        response = web.StreamResponse(
            headers={"Content-Type": "text/plain" if plain else "application/json"}
        )
        await response.prepare(request)
        while True:
            first = await sub.queue.get()
            if first is None:
                break
            lines = [first]
            while not sub.queue.empty() and len(lines) < BATCH_LINES:
                line = sub.queue.get_nowait()
                if line is None:
                    sub.close()  # seen again on the next round, after these lines
                    break
                lines.append(line)
            data = "".join(line + "\n" for line in lines).encode()
            if plain:
                await response.write(data)
            else:
                frame = {"Data": base64.b64encode(data).decode()}
                await response.write(json.dumps(frame).encode() + b"\n")
    finally:
        broadcaster.unsubscribe(sub)
    return response
