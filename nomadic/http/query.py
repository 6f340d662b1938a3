"""Query parameters, blocking queries and JSON responses shared by every HTTP handler.

A blocking query (``?index=N&wait=5s``) answers once the index of the tables it reads passes
``N``, or when the wait (default and maximum 300 s, plus up to wait/16 of jitter, as in Nomad's
``blockingRPC``) runs out. Every response carries ``X-Nomad-Index``, ``X-Nomad-KnownLeader`` and
``X-Nomad-LastContact``.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.agent import ClientAPI, ServerAPI
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import to_json
from nomadic.structs.consts import DEFAULT_NAMESPACE

__all__ = [
    "AGENT_INFO",
    "CLIENT",
    "MAX_WAIT",
    "SERVER",
    "Query",
    "RoleMissingError",
    "blocking",
    "client_of",
    "flag",
    "json_response",
    "parse_duration",
    "read_json",
    "server_of",
]

SERVER: web.AppKey[ServerAPI | None] = web.AppKey("server")
CLIENT: web.AppKey[ClientAPI | None] = web.AppKey("client")
AGENT_INFO: web.AppKey[dict[str, Any]] = web.AppKey("agent_info")

MAX_WAIT = 300.0  # seconds: Nomad's DefaultBlockingRPCQueryTime and MaxBlockingRPCQueryTime
JITTER_FRACTION = 16

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class RoleMissingError(Exception):
    """The agent lacks the server or client role a request needs (HTTP 501)."""


def parse_duration(text: str) -> float:
    """Go duration syntax (``5s``, ``1m30s``, ``250ms``; a bare number is seconds) -> seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValidationError(f"invalid duration {text!r}: use Go syntax such as 5s, 1m or 250ms")
    return total


def flag(request: web.Request, name: str) -> bool:
    """``?name``, ``?name=true`` and ``?name=1`` are true; absent or ``false`` is false."""
    if name not in request.query:
        return False
    return request.query[name].lower() not in ("false", "0", "no")


@dataclass(frozen=True)
class Query:
    """The query options Nomad's ``parseQueryOptions`` reads."""

    index: int = 0
    wait: float = MAX_WAIT
    prefix: str = ""
    namespace: str = DEFAULT_NAMESPACE
    pretty: bool = False

    @classmethod
    def of(cls, request: web.Request) -> Query:
        q = request.query
        try:
            index = int(q.get("index", "0") or "0")
        except ValueError:
            raise ValidationError(f"invalid index {q['index']!r}: must be an integer") from None
        wait = min(parse_duration(q["wait"]), MAX_WAIT) if q.get("wait") else MAX_WAIT
        return cls(
            index=index,
            wait=wait,
            prefix=q.get("prefix", ""),
            namespace=q.get("namespace", "") or DEFAULT_NAMESPACE,
            pretty=flag(request, "pretty"),
        )


def server_of(request: web.Request) -> ServerAPI:
    server = request.app[SERVER]
    if server is None:
        raise RoleMissingError(
            "this agent is not running a server; point -address at a server agent"
        )
    return server


def client_of(request: web.Request) -> ClientAPI:
    client = request.app[CLIENT]
    if client is None:
        raise RoleMissingError(
            "this agent is not running a client; point -address at the client agent"
        )
    return client


def _headers(request: web.Request, index: int) -> dict[str, str]:
    server = request.app[SERVER]
    known = bool(server.leader_addr()) if server is not None else False
    return {
        "X-Nomad-Index": str(max(index, 1)),
        "X-Nomad-KnownLeader": "true" if known else "false",
        "X-Nomad-LastContact": "0",
    }


def json_response(
    request: web.Request, body: Any, *, index: int = 0, status: int = 200
) -> web.Response:
    """Encode ``body`` (structs, lists, dicts) with Nomad's names; indent with ``?pretty``."""
    data = to_json(body)
    if flag(request, "pretty"):
        data = msgspec.json.format(data, indent=4) + b"\n"
    return web.Response(
        body=data,
        status=status,
        content_type="application/json",
        headers=_headers(request, index),
    )


async def blocking(
    request: web.Request,
    tables: tuple[str, ...],
    read: Callable[[StateSnapshot], Any],
) -> web.Response:
    """Run ``read`` on a snapshot once the index of ``tables`` passes ``?index``; respond."""
    server = server_of(request)
    query = Query.of(request)
    snap = server.snapshot()
    index = max(snap.table_index(t) for t in tables)
    if query.index > 0 and index <= query.index:
        wait = query.wait + random.uniform(0, query.wait / JITTER_FRACTION)
        deadline = time.monotonic() + wait
        while index <= query.index:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await server.wait_for_index(snap.latest_index(), remaining)
            snap = server.snapshot()
            index = max(snap.table_index(t) for t in tables)
    body = read(snap)
    return json_response(request, body, index=index)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; a malformed body is a 400 that says what is wrong."""
    raw = await request.read()
    if not raw.strip():
        raise ValidationError("request body is empty: send a JSON object")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"malformed JSON in request body: {exc}") from None
