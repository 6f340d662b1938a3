"""Forwarding HTTP requests by region: every ``/v1`` request is for one region.

    request --region?--> ?region=, else (job register/plan/validate) the job's region,
                         else this agent's region
        ours:    served here
        another: proxied to a live server of it (random, the next one on a connection
                 failure), marked X-Nomadic-Region-Forwarded so it is forwarded at most once;
                 none alive: 500 "No path to region ..."

The region of a job request follows Nomad's ``regionForJob``: ``?region`` wins, then the
request body's ``Region``, then the job's ``Region``; "global" or nothing means this agent's
region; a multiregion job goes to the first of its regions unless the request's region is one
of them. ``/v1/agent/*``, ``/v1/metrics`` and ``/v1/regions`` always describe this agent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from nomadic.errors import RegionUnavailableError
from nomadic.http.agent import ServerAPI
from nomadic.http.forward import ProxyConnectError, proxy
from nomadic.http.query import SERVER
from nomadic.telemetry import default_sink

__all__ = ["REGION_FORWARDED", "region_for_job", "region_middleware"]

REGION_FORWARDED = "X-Nomadic-Region-Forwarded"
GLOBAL_REGION = "global"
CONNECT_TIMEOUT = 3.0  # seconds: a dead region must not hold up the caller for long
_AGENT_LOCAL = ("/v1/agent/", "/v1/metrics", "/v1/regions")
_JOB_BODY_PATHS = ("/v1/jobs", "/v1/validate/job")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def region_for_job(
    job_region: str,
    multiregion: list[str],
    *,
    query_region: str,
    api_region: str,
    agent_region: str,
) -> tuple[str, str]:
    """(region the request goes to, region stored on the job): Nomad's ``regionForJob``."""
    request_region = job_reg = query_region or api_region or job_region
    if not request_region or request_region == GLOBAL_REGION:
        request_region = job_reg = agent_region
    if multiregion:
        job_reg = GLOBAL_REGION
        if request_region not in multiregion:
            request_region = multiregion[0]
    return request_region, job_reg


def _is_job_body(request: web.Request) -> bool:
    if request.method not in ("PUT", "POST"):
        return False
    path = request.rel_url.raw_path  # a job ID's "/" stays %2F here
    if path in _JOB_BODY_PATHS:
        return True
    parts = path.split("/")  # "", v1, job, <id>[, plan]
    return len(parts) in (4, 5) and parts[2] == "job" and (len(parts) == 4 or parts[4] == "plan")


async def request_region(request: web.Request, agent_region: str) -> str:
    query_region = request.query.get("region", "")
    if not _is_job_body(request):
        return query_region or agent_region
    try:
        body: Any = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        body = None  # the handler answers malformed JSON with a 400
    if not isinstance(body, dict) or not isinstance(body.get("Job"), dict):
        return query_region or agent_region
    job = body["Job"]
    multi = job.get("Multiregion") or {}
    names = [
        str(r.get("Name", ""))
        for r in (multi.get("Regions") or [] if isinstance(multi, dict) else [])
        if isinstance(r, dict)
    ]
    region, _ = region_for_job(
        str(job.get("Region") or ""),
        names,
        query_region=query_region,
        api_region=str(body.get("Region") or ""),
        agent_region=agent_region,
    )
    return region


@web.middleware
async def region_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    server = request.app[SERVER]
    if (
        server is None
        or not request.path.startswith("/v1/")
        or request.path.startswith(_AGENT_LOCAL)
    ):
        return await handler(request)
    region = await request_region(request, server.region)
    if region == server.region:
        return await handler(request)
    if request.headers.get(REGION_FORWARDED):
        raise RegionUnavailableError(
            f'No path to region "{region}": the request was forwarded to region '
            f'"{server.region}" instead; check the servers\' region settings'
        )
    return await _forward(request, server, region)


async def _forward(request: web.Request, server: ServerAPI, region: str) -> web.StreamResponse:
    errors = []
    for addr in server.region_http_addrs(region):
        base = addr if "://" in addr else f"http://{addr}"
        default_sink.incr_counter("nomad.nomad.rpc.cross-region", 1, {"region": region})
        try:
            return await proxy(
                request,
                base,
                marker=REGION_FORWARDED,
                connect_timeout=CONNECT_TIMEOUT,
                region=region,
            )
        except ProxyConnectError as exc:
            errors.append(str(exc))
    raise RegionUnavailableError(
        f'No path to region "{region}": no server of it answered ({"; ".join(errors)})'
    )
