"""``GET /v1/metrics``: the agent's metrics as Nomad's JSON, or Prometheus text
(``?format=prometheus``, only with ``telemetry { prometheus_metrics = true }``; otherwise 415,
as Nomad answers). Also the request-timing middleware (``nomad.http.request``, labelled with
the method and the route's path template so IDs do not explode the series count).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from nomadic.telemetry import (
    CONTENT_TYPE,
    PrometheusRenderer,
    Sink,
    default_sink,
    render_json,
)

__all__ = ["TELEMETRY", "Telemetry", "metrics_middleware", "routes"]

routes = web.RouteTableDef()


@dataclass
class Telemetry:
    """What the metrics endpoint serves: a sink and whether Prometheus text is enabled."""

    sink: Sink = default_sink
    prometheus_metrics: bool = True
    renderer: PrometheusRenderer = field(init=False)

    def __post_init__(self) -> None:
        self.renderer = PrometheusRenderer(self.sink)


TELEMETRY: web.AppKey[Telemetry] = web.AppKey("telemetry")


@routes.get("/v1/metrics")
async def metrics(request: web.Request) -> web.Response:
    telemetry = request.app[TELEMETRY]
    fmt = request.query.get("format", "")
    if fmt == "prometheus":
        if not telemetry.prometheus_metrics:
            return web.Response(
                status=415,
                text="Prometheus is not enabled: set telemetry { prometheus_metrics = true } "
                "in the agent config\n",
            )
        # rendering 100k+ series takes a while: keep the event loop free meanwhile
        text = await asyncio.to_thread(telemetry.renderer.render)
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})
    if fmt:
        return web.Response(
            status=400, text=f"unknown metrics format {fmt!r}: use format=prometheus or none\n"
        )
    body = render_json(telemetry.sink)
    return web.json_response(body)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    start = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        info = request.match_info.route.resource
        path = info.canonical if info is not None else "unmatched"
        labels = {"method": request.method, "path": path}
        default_sink.measure_since("nomad.http.request", start, labels)
        if status >= 500:
            default_sink.incr_counter("nomad.http.request_error", 1.0, labels)
