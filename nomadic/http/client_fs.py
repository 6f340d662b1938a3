"""``/v1/client/fs/{logs,ls,stat,cat}/:alloc``: reading an allocation's directory on this client.

Paths are relative to the allocation directory; one that resolves outside it (``..``, an
absolute path or a symlink pointing out) is refused with 400. Logs stream as Nomad's JSON
frames ``{"Offset", "Data" (base64), "File"}`` one per line, or as raw bytes with ``plain``.
"""

from __future__ import annotations

import base64
import functools
import json
import mimetypes
import stat as stat_mod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from nomadic.errors import NotFoundError, ValidationError
from nomadic.http.agent import ServerAPI
from nomadic.http.forward import forwardable
from nomadic.http.logstream import LogFiles, stream_logs
from nomadic.http.query import SERVER, client_of, flag, json_response
from nomadic.structs.consts import TASK_STATE_DEAD

__all__ = ["file_info", "resolve", "routes"]

routes = web.RouteTableDef()


def resolve(root: Path, path: str) -> Path:
    """``path`` inside ``root``; raises ValidationError when it would escape the alloc dir."""
    base = root.resolve()
    target = (base / path.lstrip("/")).resolve()
    if target != base and base not in target.parents:
        raise ValidationError(f"path {path!r} is outside the allocation directory")
    return target


def file_info(path: Path) -> dict[str, Any]:
    """Nomad's ``AllocFileInfo`` for one file or directory."""
    st = path.stat()
    is_dir = stat_mod.S_ISDIR(st.st_mode)
    content_type = ""
    if stat_mod.S_ISREG(st.st_mode):  # never open a FIFO (the log pipes): it would block
        guessed, _ = mimetypes.guess_type(path.name)
        content_type = guessed or _sniff(path)
    return {
        "Name": path.name,
        "IsDir": is_dir,
        "Size": st.st_size,
        "FileMode": stat_mod.filemode(st.st_mode),
        "ModTime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat().replace("+00:00", "Z"),
        "ContentType": content_type,
    }


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError:
        return "application/octet-stream"
    try:
        head.decode()
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def _target(request: web.Request) -> tuple[Path, str]:
    root = client_of(request).alloc_dir(request.match_info["alloc_id"])
    rel = request.query.get("path", "/") or "/"
    target = resolve(root, rel)
    if not target.exists():
        raise NotFoundError(f"file {rel!r} not found in the allocation directory")
    return target, rel


@routes.get("/v1/client/fs/ls/{alloc_id}")
@forwardable
async def fs_ls(request: web.Request) -> web.StreamResponse:
    target, rel = _target(request)
    if not target.is_dir():
        raise ValidationError(f"{rel!r} is a file, not a directory: use stat or cat")
    return json_response(request, [file_info(p) for p in sorted(target.iterdir())])


@routes.get("/v1/client/fs/stat/{alloc_id}")
@forwardable
async def fs_stat(request: web.Request) -> web.StreamResponse:
    target, _ = _target(request)
    return json_response(request, file_info(target))


@routes.get("/v1/client/fs/cat/{alloc_id}")
@forwardable
async def fs_cat(request: web.Request) -> web.StreamResponse:
    target, rel = _target(request)
    if target.is_dir():
        raise ValidationError(f"{rel!r} is a directory: use ls")
    if not target.is_file():
        raise ValidationError(f"{rel!r} is not a regular file (a pipe or device): use stat")
    return web.FileResponse(target, headers={"Content-Type": "text/plain"})


def _log_params(request: web.Request) -> tuple[str, str, str, int]:
    q = request.query
    task = q.get("task", "")
    if not task:
        raise ValidationError("missing task name: add ?task=<task>")
    kind = q.get("type", "stdout")
    if kind not in ("stdout", "stderr"):
        raise ValidationError(f'invalid log type {kind!r}: use "stdout" or "stderr"')
    origin = q.get("origin", "start") or "start"
    if origin not in ("start", "end"):
        raise ValidationError(f'invalid origin {origin!r}: use "start" or "end"')
    try:
        offset = int(q.get("offset", "0") or "0")
    except ValueError:
        raise ValidationError(f"invalid offset {q['offset']!r}: must be an integer") from None
    if offset < 0:
        raise ValidationError(f"invalid offset {offset}: must not be negative")
    return task, kind, origin, offset


def _done_check(request: web.Request, alloc_id: str, task: str) -> Any:
    """A callable saying whether the task can write no more (alloc terminal or task dead)."""
    server: ServerAPI | None = request.app[SERVER]
    if server is None:
        return lambda: False
    alloc = server.snapshot().alloc_by_id(alloc_id)
    if alloc is not None and alloc.job is not None:
        group = alloc.job.lookup_task_group(alloc.task_group)
        if group is not None and group.lookup_task(task) is None:
            names = ", ".join(t.name for t in group.tasks)
            raise ValidationError(f"unknown task name {task!r}; this allocation runs: {names}")

    def done() -> bool:
        current = server.snapshot().alloc_by_id(alloc_id)
        if current is None or current.client_terminal():
            return True
        state = current.task_states.get(task)
        return state is not None and state.state == TASK_STATE_DEAD

    return done


def _proxy_done_check(request: web.Request) -> Any:
    if not flag(request, "follow"):
        return None
    return _done_check(request, request.match_info["alloc_id"], request.query.get("task", ""))


@routes.get("/v1/client/fs/logs/{alloc_id}")
@functools.partial(forwardable, done_check=_proxy_done_check)
async def fs_logs(request: web.Request) -> web.StreamResponse:
    alloc_id = request.match_info["alloc_id"]
    task, kind, origin, offset = _log_params(request)
    root = client_of(request).alloc_dir(alloc_id)
    follow, plain = flag(request, "follow"), flag(request, "plain")
    finished = _done_check(request, alloc_id, task)

    def done() -> bool:
        # aiohttp does not cancel handlers when the reader disconnects: stop following then.
        transport = request.transport
        return transport is None or transport.is_closing() or finished()

    resp = web.StreamResponse(
        headers={"Content-Type": "text/plain" if plain else "application/json"}
    )
    await resp.prepare(request)
    chunks = stream_logs(
        LogFiles(root, task, kind), origin=origin, offset=offset, follow=follow, done=done
    )
    try:
        async for chunk in chunks:
            if plain:
                await resp.write(chunk.data)
            else:
                frame = {
                    "Offset": chunk.offset,
                    "Data": base64.b64encode(chunk.data).decode(),
                    "File": chunk.file,
                }
                await resp.write(json.dumps(frame).encode() + b"\n")
        await resp.write_eof()
    except ConnectionError:  # the reader went away
        pass
    return resp
