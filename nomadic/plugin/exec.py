"""Interactive exec into a running task (Nomad's ``ExecTaskStreaming``): the streams a driver
is handed, and a ready-made runner for drivers whose tasks are local processes.

The client creates one :class:`ExecStreams` per session and calls, from a worker thread::

    driver.exec_task_streaming(task_id, command, tty, streams) -> ExitResult

The driver starts ``command`` in the task's environment, copies its output to
``streams.stdout``/``streams.stderr`` (with a TTY everything arrives on stdout), feeds it what
``streams.next_input()`` returns (stdin data, stdin close, terminal resizes) and returns once
the command has exited and its output is drained. ``streams.cancelled`` turns true when the
caller went away; the driver then kills the command and returns.

Process-based drivers (raw_exec, exec, java) can return :func:`run_process_exec` directly,
passing the argv (possibly prefixed with their own isolation wrapper), cwd and env.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import select
import shutil
import signal
import struct
import subprocess
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass

from nomadic.errors import DriverError

from .records import ExitResult

__all__ = ["ExecInput", "ExecStreams", "run_process_exec"]

READ_SIZE = 32 * 1024
POLL = 0.1  # seconds: how often a blocked loop re-checks for cancellation or exit


@dataclass(frozen=True)
class ExecInput:
    """One input event: stdin ``data``, stdin ``close``, or a terminal resize."""

    data: bytes = b""
    close: bool = False
    height: int = 0
    width: int = 0

    @property
    def is_resize(self) -> bool:
        return self.height > 0 and self.width > 0


class ExecStreams:
    """Both directions of one exec session. The client feeds input with :meth:`put_input`;
    the driver reads it with :meth:`next_input` and writes output with :meth:`stdout` and
    :meth:`stderr` (thread-safe callables the client provides)."""

    def __init__(self, stdout: Callable[[bytes], None], stderr: Callable[[bytes], None]) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self._input: queue.Queue[ExecInput] = queue.Queue()
        self._cancelled = threading.Event()

    # -- client side --------------------------------------------------------------------
    def put_input(self, item: ExecInput) -> None:
        self._input.put(item)

    def cancel(self) -> None:
        """The caller went away: the driver should kill the command and return."""
        self._cancelled.set()

    # -- driver side --------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def next_input(self, timeout: float | None = None) -> ExecInput | None:
        """The next input event, or ``None`` when none arrives within ``timeout`` seconds."""
        try:
            return self._input.get(timeout=timeout)
        except queue.Empty:
            return None


def run_process_exec(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    tty: bool,
    streams: ExecStreams,
    preexec_fn: Callable[[], None] | None = None,
) -> ExitResult:
    """Run ``argv`` as a local process wired to ``streams``; with ``tty``, on a new
    pseudo-terminal that is the process's controlling terminal."""
    if not argv:
        raise DriverError("exec needs a command")
    master = -1
    try:
        if tty:
            master, slave = pty.openpty()
            try:
                proc = _spawn(_with_ctty(argv), cwd, env, slave, slave, slave, preexec_fn, False)
            finally:
                os.close(slave)
            outputs = {master: streams.stdout}
            stdin_fd = master
        else:
            pipe = subprocess.PIPE
            proc = _spawn(argv, cwd, env, pipe, pipe, pipe, preexec_fn, True)
            assert proc.stdin and proc.stdout and proc.stderr
            outputs = {proc.stdout.fileno(): streams.stdout, proc.stderr.fileno(): streams.stderr}
            stdin_fd = proc.stdin.fileno()
        pump = threading.Thread(target=_pump_output, args=(outputs,), daemon=True)
        pump.start()
        _feed_input(proc, stdin_fd, tty, streams)
        code = proc.wait()
        pump.join()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
    finally:
        if master >= 0:
            os.close(master)
    if code < 0:
        return ExitResult(exit_code=128 - code, signal=-code)
    return ExitResult(exit_code=code)


def _spawn(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    stdin: int,
    stdout: int,
    stderr: int,
    preexec_fn: Callable[[], None] | None,
    new_session: bool,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=new_session,
            preexec_fn=preexec_fn,
        )
    except OSError as exc:
        raise DriverError(f"failed to exec {argv[0]!r}: {exc.strerror or exc}") from exc


def _with_ctty(argv: list[str]) -> list[str]:
    """Make the PTY the command's controlling terminal (job control, Ctrl-C, ``tty``) with
    util-linux ``setsid --ctty``: a new session whose terminal is stdin. Not a group leader
    (no ``start_new_session``), ``setsid`` needs no fork, so the PID stays the command's."""
    setsid = shutil.which("setsid")
    return [setsid, "--ctty", *argv] if setsid else argv


def _pump_output(outputs: dict[int, Callable[[bytes], None]]) -> None:
    """Copy every output fd to its sink until all reach EOF (a PTY master reports EIO)."""
    open_fds = dict(outputs)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [])
        for fd in ready:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:  # EIO: the last process holding the PTY slave exited
                data = b""
            if data:
                open_fds[fd](data)
            else:
                del open_fds[fd]


def _feed_input(
    proc: subprocess.Popen[bytes], stdin_fd: int, tty: bool, streams: ExecStreams
) -> None:
    """Deliver input events until the process exits; kill it if the caller goes away."""
    stdin_open = True
    while proc.poll() is None:
        if streams.cancelled:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            return
        item = streams.next_input(POLL)
        if item is None:
            continue
        if item.is_resize and tty:
            size = struct.pack("HHHH", item.height, item.width, 0, 0)
            with contextlib.suppress(OSError):
                fcntl.ioctl(stdin_fd, termios.TIOCSWINSZ, size)
        if item.data and stdin_open:
            _write_all(stdin_fd, item.data)
        if item.close and stdin_open:
            stdin_open = False
            if tty:  # a terminal has no half-close: send EOF (^D) as a terminal would
                with contextlib.suppress(OSError):
                    os.write(stdin_fd, b"\x04")
            elif proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    with contextlib.suppress(OSError):
        while view:
            view = view[os.write(fd, view) :]
