"""``/v1/client/*`` requests for allocations on another node: proxied to that node's HTTP API.

Nomad's servers forward client requests to the node running the allocation over RPC; a nomadic
agent that knows the allocation (it has the server role) but does not run it proxies the HTTP
request to the node's advertised ``HTTPAddr``, streaming the answer back (logs may follow).
A forwarded request carries ``X-Nomadic-Forwarded`` so it is forwarded at most once.
:func:`proxy` also carries requests to another region (``nomadic.http.region``).
An agent whose API speaks https advertises ``https://host:port``; such targets are dialled
with this agent's own CA and certificate (:data:`PROXY_TLS`, see ``nomadic.tlsutil``).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from nomadic.http.query import CLIENT, SERVER
from nomadic.tlsutil import ProxyTLS

__all__ = [
    "FORWARDED",
    "PROXY_TLS",
    "ProxyConnectError",
    "forwardable",
    "proxy",
    "remote_node_address",
]

#: The agent's TLS material for dialling https agents (None: it has no ``tls { http }``).
PROXY_TLS: web.AppKey[ProxyTLS | None] = web.AppKey("proxy_tls")
FORWARDED = "X-Nomadic-Forwarded"
IDLE_END = 1.0  # seconds of silence after which a finished allocation's proxied stream ends
_SENT_HEADERS = ("Content-Type", "X-Nomad-Token")  # of the caller's request, passed on
_PASSED_HEADERS = ("Content-Type", "X-Nomad-Index", "X-Nomad-KnownLeader", "X-Nomad-LastContact")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def remote_node_address(request: web.Request, alloc_id: str) -> str | None:
    """Base URL of the node running ``alloc_id`` when that is not this agent's client."""
    server, client = request.app[SERVER], request.app[CLIENT]
    if server is None or request.headers.get(FORWARDED):
        return None
    snap = server.snapshot()
    alloc = snap.alloc_by_id(alloc_id)
    if alloc is None or (client is not None and client.node_id == alloc.node_id):
        return None
    node = snap.node_by_id(alloc.node_id)
    if node is None or not node.http_addr:
        return None
    return node.http_addr if "://" in node.http_addr else f"http://{node.http_addr}"


async def _copy(
    upstream: aiohttp.ClientResponse, resp: web.StreamResponse, done: Callable[[], bool] | None
) -> None:
    """Copy the body; with ``done``, also end once it holds and the node has sent nothing for
    IDLE_END seconds (a client-only node cannot know that its allocation finished)."""
    while True:
        try:
            chunk = await asyncio.wait_for(upstream.content.readany(), IDLE_END if done else None)
        except TimeoutError:
            assert done is not None
            if done():
                return
            continue
        if not chunk:
            return
        await resp.write(chunk)


class ProxyConnectError(Exception):
    """The upstream agent could not be reached; nothing was sent back to the caller yet."""


async def proxy(
    request: web.Request,
    base: str,
    *,
    marker: str = FORWARDED,
    done: Callable[[], bool] | None = None,
    connect_timeout: float = 10.0,
    region: str = "",
) -> web.StreamResponse:
    """Send ``request`` to the agent at ``base`` (marked with the ``marker`` header) and stream
    its answer back; ProxyConnectError when it cannot be reached (the caller may try another).
    An https ``base`` is checked against this agent's CA; with ``region`` (a server of that
    region) its certificate must also name ``server.<region>.nomad``.
    """
    ssl_ctx, server_hostname = _tls_for(request, base, region)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
    resp: web.StreamResponse | None = None
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(
                request.method,
                base + request.path_qs,
                headers={
                    marker: "1",
                    **{h: request.headers[h] for h in _SENT_HEADERS if h in request.headers},
                },
                data=await request.read() if request.body_exists else None,
                ssl=ssl_ctx,
                server_hostname=server_hostname,
            ) as upstream,
        ):
            headers = {h: upstream.headers[h] for h in _PASSED_HEADERS if h in upstream.headers}
            resp = web.StreamResponse(status=upstream.status, headers=headers)
            await resp.prepare(request)
            await _copy(upstream, resp, done)
            await resp.write_eof()
            return resp
    except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
        if resp is not None:  # the stream broke midway: the reader sees it end
            return resp
        raise ProxyConnectError(f"{base}: {exc or type(exc).__name__}") from None


def _tls_for(
    request: web.Request, base: str, region: str
) -> tuple[ssl.SSLContext | bool, str | None]:
    tls = request.app.get(PROXY_TLS)
    if not base.startswith("https://") or tls is None:
        return True, None  # http, or https without our own CA: the system's trust store
    if region:
        return tls.region_ctx, f"server.{region}.nomad"
    return tls.node_ctx, None


async def _proxy(
    request: web.Request, base: str, done: Callable[[], bool] | None = None
) -> web.StreamResponse:
    try:
        return await proxy(request, base, done=done)
    except ProxyConnectError as exc:
        return web.Response(status=500, text=f"cannot reach the allocation's node at {exc}\n")


def forwardable(
    handler: Handler, done_check: Callable[[web.Request], Callable[[], bool] | None] | None = None
) -> Handler:
    """Serve ``handler`` here, or proxy to the node that runs ``{alloc_id}``; ``done_check``
    gives the proxy a "no more data will come" test for streams that would otherwise follow
    forever."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        base = remote_node_address(request, request.match_info["alloc_id"])
        if base is None:
            return await handler(request)
        return await _proxy(request, base, done_check(request) if done_check else None)

    return wrapper
