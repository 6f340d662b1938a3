"""``/v1/client/allocation/:id/exec``: an interactive command in a task (a websocket).

Query: ``task``, ``command`` (a JSON array), ``tty``. Frames are Nomad's JSON, ``data``
base64-encoded as Go encodes ``[]byte``::

    in:  {"stdin": {"data": "..."}} {"stdin": {"close": true}}
         {"tty_size": {"height": 24, "width": 80}}   {} (heartbeat)
    out: {"stdout": {"data": "..."}} {"stderr": {"data": "..."}}
         {"exited": true, "result": {"exit_code": 0}}   then a normal close

A failure after the upgrade (unknown task, task not running, driver without exec) closes the
socket with code 1008 (the caller's mistake) or 1011 and the error as the reason, as Nomad
does. An allocation on another node is proxied there socket to socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from nomadic.errors import UserError, ValidationError
from nomadic.http.forward import FORWARDED, remote_node_address
from nomadic.http.query import client_of, flag
from nomadic.plugin import ExecInput, ExecStreams, ExitResult

__all__ = ["routes"]

log = logging.getLogger("nomadic.http")

routes = web.RouteTableDef()


def _command(request: web.Request) -> list[str]:
    raw = request.query.get("command", "")
    try:
        command = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        command = None
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise ValidationError(
            f'invalid command {raw!r}: send a JSON array of strings, e.g. ["/bin/sh", "-c", "ls"]'
        )
    return command


@routes.get("/v1/client/allocation/{alloc_id}/exec")
async def alloc_exec(request: web.Request) -> web.StreamResponse:
    alloc_id = request.match_info["alloc_id"]
    command = _command(request)
    base = remote_node_address(request, alloc_id)
    if base is not None:
        return await _proxy(request, base)
    client = client_of(request)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def sink(name: str) -> Any:
        def write(data: bytes) -> None:
            frame = {name: {"data": base64.b64encode(data).decode()}}
            loop.call_soon_threadsafe(outbox.put_nowait, frame)

        return write

    streams = ExecStreams(sink("stdout"), sink("stderr"))
    task = request.query.get("task", "")
    session = asyncio.ensure_future(
        client.alloc_exec(alloc_id, task, command, flag(request, "tty"), streams)
    )
    reader = asyncio.ensure_future(_read_input(ws, streams))
    try:
        await _send_output(ws, outbox, session)
    finally:
        streams.cancel()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        if not session.done():
            with contextlib.suppress(Exception):
                await session
    return ws


async def _send_output(
    ws: web.WebSocketResponse,
    outbox: asyncio.Queue[dict[str, Any]],
    session: asyncio.Future[ExitResult],
) -> None:
    """Relay output until the command exits, then the exit frame and a normal close."""
    while True:
        get = asyncio.ensure_future(outbox.get())
        waiters: set[asyncio.Future[Any]] = {get, session}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if get.done():
            await _send(ws, get.result())
            continue
        get.cancel()
        while not outbox.empty():  # output written before the exit is already queued
            await _send(ws, outbox.get_nowait())
        break
    error = session.exception()
    if error is None:
        result = session.result()
        await _send(ws, {"exited": True, "result": {"exit_code": result.exit_code}})
        await ws.close()
        return
    code = (
        WSCloseCode.POLICY_VIOLATION if isinstance(error, UserError) else WSCloseCode.INTERNAL_ERROR
    )
    if code == WSCloseCode.INTERNAL_ERROR:
        log.warning("alloc exec failed: %s", error)
    await ws.close(code=code, message=str(error)[:120].encode())


async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):  # the caller went away
        await ws.send_str(json.dumps(frame))


async def _read_input(ws: web.WebSocketResponse, streams: ExecStreams) -> None:
    """Turn input frames into ExecInput events; a closed socket cancels the session."""
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
                item = _input(frame)
            except (ValueError, TypeError, AttributeError) as exc:
                log.debug("ignoring a malformed exec frame: %s", exc)
                continue
            if item is not None:
                streams.put_input(item)
    finally:
        streams.cancel()


def _input(frame: dict[str, Any]) -> ExecInput | None:
    stdin = frame.get("stdin") or {}
    size = frame.get("tty_size") or {}
    data = base64.b64decode(stdin.get("data") or "")
    close = bool(stdin.get("close"))
    height, width = int(size.get("height") or 0), int(size.get("width") or 0)
    if not (data or close or (height and width)):
        return None  # a heartbeat
    return ExecInput(data=data, close=close, height=height, width=width)


async def _proxy(request: web.Request, base: str) -> web.StreamResponse:
    """Relay the session to the node running the allocation, frame for frame."""
    url = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    async with aiohttp.ClientSession() as http:
        try:
            upstream = await http.ws_connect(url + request.path_qs, headers={FORWARDED: "1"})
        except (aiohttp.ClientError, ConnectionError) as exc:
            return web.Response(
                status=500, text=f"cannot reach the allocation's node at {base}: {exc}\n"
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with upstream:
            down = asyncio.ensure_future(_pump(upstream, ws))
            up = asyncio.ensure_future(_pump(ws, upstream))
            await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
            up.cancel()
            if down.done():
                code, reason = down.result()
                await ws.close(code=code, message=reason.encode()[:120])
            else:
                down.cancel()
    return ws


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> tuple[int, str]:
    """Copy text frames until ``source`` closes; return its close code and reason."""
    while True:
        msg = await source.receive()
        if msg.type == WSMsgType.TEXT:
            await target.send_str(msg.data)
        elif msg.type == WSMsgType.CLOSE:
            return int(msg.data or WSCloseCode.OK), str(msg.extra or "")
        elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return int(WSCloseCode.OK), ""
