"""An interactive exec session over ``/v1/client/allocation/:id/exec`` (a websocket).

Three threads share the socket, as Nomad's ``api`` does with goroutines: the caller's thread
receives output frames and returns the exit code; one thread copies ``stdin`` into stdin
frames (then a close frame at EOF); one sends terminal sizes (first, and on every SIGWINCH).
A socket closed without an exit frame is an :class:`~nomadic.api.client.APIError` carrying the
agent's reason ("Task not running", "task driver ... does not support exec").
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection, connect

from nomadic.api.client import APIError

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["exec_session"]

READ_SIZE = 2048
HEARTBEAT = 10.0  # seconds: Nomad's api sends an empty frame this often


class _Session:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.done = threading.Event()

    def send(self, frame: dict[str, Any]) -> None:
        with self.lock, contextlib.suppress(ConnectionClosed, OSError):
            self.conn.send(json.dumps(frame))

    def copy_stdin(self, stdin: BinaryIO) -> None:
        read = _reader(stdin)
        while not self.done.is_set():
            try:
                data = read()
            except OSError:
                data = b""
            if not data:
                self.send({"stdin": {"close": True}})
                return
            self.send({"stdin": {"data": base64.b64encode(data).decode()}})

    def send_sizes(
        self, size: Callable[[], tuple[int, int] | None], changed: threading.Event
    ) -> None:
        while not self.done.is_set():
            current = size()
            if current is not None:
                self.send({"tty_size": {"height": current[0], "width": current[1]}})
            changed.wait()
            changed.clear()

    def heartbeat(self) -> None:
        while not self.done.wait(HEARTBEAT):
            self.send({})

    def receive(self, stdout: BinaryIO, stderr: BinaryIO) -> int:
        while True:
            try:
                frame = json.loads(self.conn.recv())
            except ConnectionClosed as exc:
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                raise APIError(
                    0, reason or "the agent closed the exec session before the command exited"
                ) from None
            for name, sink in (("stdout", stdout), ("stderr", stderr)):
                data = (frame.get(name) or {}).get("data")
                if data:
                    sink.write(base64.b64decode(data))
                    sink.flush()
            if frame.get("exited") and frame.get("result") is not None:
                return int(frame["result"].get("exit_code", 0))


def _reader(stdin: BinaryIO) -> Callable[[], bytes]:
    """Reads that return what is available (a terminal line, a pipe chunk) without waiting
    for a full buffer."""
    try:
        fd = stdin.fileno()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return lambda: stdin.read(READ_SIZE)
    return lambda: os.read(fd, READ_SIZE)


def _url(client: Client, alloc_id: str, task: str, command: list[str], tty: bool) -> str:
    from urllib.parse import urlencode

    base = client.address.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    params = {"task": task, "command": json.dumps(command), "tty": "true" if tty else "false"}
    if client.region:
        params["region"] = client.region
    return f"{base}/v1/client/allocation/{alloc_id}/exec?{urlencode(params)}"


def _connect(client: Client, url: str) -> ClientConnection:
    headers = {"X-Nomad-Token": client.token} if client.token else {}
    try:
        return connect(url, additional_headers=headers, open_timeout=client.timeout, max_size=None)
    except InvalidStatus as exc:
        body = exc.response.body.decode(errors="replace") if exc.response.body else ""
        raise APIError(exc.response.status_code, body) from None
    except (OSError, InvalidURI, WebSocketException, TimeoutError) as exc:
        raise client._unreachable("GET", url.split("?")[0], exc) from None


def exec_session(
    client: Client,
    alloc_id: str,
    task: str,
    command: list[str],
    *,
    tty: bool,
    stdin: BinaryIO | None,
    stdout: BinaryIO,
    stderr: BinaryIO,
    terminal_size: Callable[[], tuple[int, int] | None] | None = None,
) -> int:
    """Run ``command`` in ``task`` of ``alloc_id``; returns the command's exit code.
    ``stdin`` of ``None`` sends an immediate EOF; ``terminal_size`` gives (rows, columns)."""
    conn = _connect(client, _url(client, alloc_id, task, command, tty))
    with conn:  # closes the socket whatever happens
        return _run(conn, tty=tty, stdin=stdin, stdout=stdout, stderr=stderr, size=terminal_size)


def _run(
    conn: ClientConnection,
    *,
    tty: bool,
    stdin: BinaryIO | None,
    stdout: BinaryIO,
    stderr: BinaryIO,
    size: Callable[[], tuple[int, int] | None] | None,
) -> int:
    session = _Session(conn)
    threads = [threading.Thread(target=session.heartbeat, daemon=True)]
    if stdin is None:
        session.send({"stdin": {"close": True}})
    else:
        threads.append(threading.Thread(target=session.copy_stdin, args=(stdin,), daemon=True))
    changed = threading.Event()
    restore = None
    if tty and size is not None:
        threads.append(
            threading.Thread(target=session.send_sizes, args=(size, changed), daemon=True)
        )
        restore = _on_winch(changed.set)
    for thread in threads:
        thread.start()
    try:
        return session.receive(stdout, stderr)
    finally:
        session.done.set()
        changed.set()
        if restore is not None:
            restore()


def _on_winch(callback: Callable[[], None]) -> Callable[[], None] | None:
    """Call ``callback`` on SIGWINCH (only possible from the main thread); returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.signal(signal.SIGWINCH, lambda *_: callback())

    def restore() -> None:
        signal.signal(signal.SIGWINCH, previous)

    return restore
