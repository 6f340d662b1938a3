"""The aiohttp application serving Nomad's ``/v1`` API from one agent's server and client roles.

Each resource's handlers live in their own module (``jobs``, ``allocations``, ``evaluations``,
``nodes``, ``status``, ``agent_endpoint``, ``client_fs``, ``client_alloc``); this module wires
them together with the error middleware. Blocking queries, query parameters and response
headers are in :mod:`nomadic.http.query`; error mapping in :mod:`nomadic.http.errors`;
requests for another region are proxied there by :mod:`nomadic.http.region`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nomadic.http import (
    agent_endpoint,
    agent_monitor,
    alloc_exec,
    alloc_lifecycle,
    allocations,
    client_alloc,
    client_fs,
    deployments,
    evaluations,
    events,
    job_actions,
    jobs,
    jobs_parse,
    metrics,
    nodes,
    operator,
    status,
)
from nomadic.http.agent import ClientAPI, ServerAPI
from nomadic.http.errors import error_middleware
from nomadic.http.metrics import TELEMETRY, Telemetry, metrics_middleware
from nomadic.http.query import AGENT_INFO, CLIENT, SERVER
from nomadic.http.region import region_middleware

__all__ = ["build_app"]

_MODULES = (jobs, allocations, evaluations, nodes, status, agent_endpoint, client_fs, client_alloc)


def build_app(
    server: ServerAPI | None,
    client: ClientAPI | None,
    agent_info: dict[str, Any],
    telemetry: Telemetry | None = None,
) -> web.Application:
    """The ``/v1`` application; either role may be ``None`` (its endpoints then answer 501)."""
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, region_middleware],
        client_max_size=32 * 1024 * 1024,
    )
    app[TELEMETRY] = telemetry or Telemetry()
    app[SERVER] = server
    app[CLIENT] = client
    app[AGENT_INFO] = dict(agent_info)
    for module in (
        *_MODULES,
        jobs_parse,
        job_actions,
        alloc_lifecycle,
        alloc_exec,
        operator,
        metrics,
        events,
        agent_monitor,
        deployments,
    ):
        app.router.add_routes(module.routes)
    return app
