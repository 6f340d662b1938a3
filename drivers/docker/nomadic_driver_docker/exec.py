"""Interactive exec into a container (``nomadic alloc exec``) over docker's hijacked exec
socket: output frames go to the session's streams, input events to the socket.

Without a TTY docker multiplexes stdout and stderr on the socket (8-byte frame headers);
with one, the raw terminal output arrives as is. Closing stdin half-closes the socket.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Any

from nomadic.plugin import DriverError, ExecStreams, ExitResult

POLL = 0.1
STREAM_STDERR = 2


def exec_streaming(
    api: Any, container_id: str, command: list[str], env: dict[str, str], tty: bool,
    streams: ExecStreams,
) -> ExitResult:  # fmt: skip
    import docker.errors

    try:
        exec_id = api.exec_create(container_id, command, stdin=True, tty=tty, environment=env)["Id"]
        sock = api.exec_start(exec_id, socket=True, tty=tty)
    except docker.errors.APIError as exc:
        raise DriverError(f"exec {command[0]!r} failed: {exc}") from exc
    raw: socket.socket = getattr(sock, "_sock", sock)
    reader = threading.Thread(
        target=_pump, args=(raw, tty, streams), name="docker-exec-output", daemon=True
    )
    reader.start()
    try:
        while reader.is_alive():
            if streams.cancelled:
                break
            item = streams.next_input(POLL)
            if item is None:
                continue
            if item.is_resize and tty:
                with contextlib.suppress(docker.errors.APIError):
                    api.exec_resize(exec_id, height=item.height, width=item.width)
            if item.data:
                with contextlib.suppress(OSError):
                    raw.sendall(item.data)
            if item.close:
                with contextlib.suppress(OSError):
                    raw.shutdown(socket.SHUT_WR)
        reader.join(1.0 if streams.cancelled else None)
    finally:
        with contextlib.suppress(OSError):
            raw.close()
    code = api.exec_inspect(exec_id).get("ExitCode")
    if code is None:  # still running: the caller went away
        return ExitResult(exit_code=137, signal=9, err="exec session cancelled")
    return ExitResult(exit_code=int(code))


def _pump(raw: socket.socket, tty: bool, streams: ExecStreams) -> None:
    try:
        if tty:
            while data := raw.recv(32 * 1024):
                streams.stdout(data)
            return
        while header := _read(raw, 8):
            kind, size = struct.unpack(">BxxxL", header)
            data = _read(raw, size)
            (streams.stderr if kind == STREAM_STDERR else streams.stdout)(data)
    except OSError:
        return


def _read(raw: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = raw.recv(size - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf
