"""Host processes for raw_exec: start in a new session, wait (child or not), kill the tree, stats.

A task is the leader of its own session and process group, so one ``killpg`` reaches every
descendant that did not start a session of its own; the psutil descendants captured before
the kill cover those too. After a client restart the task is no longer our child, so waiting
falls back to polling psutil (the exit code is then unknowable, and says so).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import threading
import time
from typing import IO

import psutil

from nomadic.plugin import CpuStats, ExitResult, MemoryStats, ResourceUsage

POLL_INTERVAL = 0.1


def open_output(path: str) -> IO[bytes]:
    """Open a task's stdout/stderr target: a FIFO read-write (so a writer never gets SIGPIPE
    while the client that reads it restarts), a regular file for appending, or /dev/null."""
    if not path:
        return open(os.devnull, "wb")
    try:
        is_fifo = stat.S_ISFIFO(os.stat(path).st_mode)
    except FileNotFoundError:
        is_fifo = False
    if is_fifo:
        return open(os.open(path, os.O_RDWR), "wb", buffering=0)
    return open(path, "ab", buffering=0)


def signal_number(name: str, default: signal.Signals) -> signal.Signals:
    """``"SIGTERM"``/``"TERM"``/``"15"`` -> the signal; empty -> ``default``."""
    if not name:
        return default
    text = name.strip().upper()
    if text.isdigit():
        return signal.Signals(int(text))
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return signal.Signals[text]
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def create_time(pid: int) -> float:
    return float(psutil.Process(pid).create_time())


def alive(pid: int, started: float) -> bool:
    """Is ``pid`` still the process that was started at ``started`` (and not a zombie)?"""
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Waiter:
    """Collects the exit of one task process; ``result`` is set once, ``done`` then fires."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: ExitResult | None = None
        self.finished_at = 0

    def finish(self, result: ExitResult) -> None:
        if not self.done.is_set():
            self.result = result
            self.finished_at = time.time_ns()
            self.done.set()

    def watch_child(self, popen: subprocess.Popen[bytes]) -> None:
        def run() -> None:
            code = popen.wait()
            if code < 0:
                self.finish(ExitResult(exit_code=128 - code, signal=-code))
            else:
                self.finish(ExitResult(exit_code=code))

        threading.Thread(target=run, name=f"raw_exec-wait-{popen.pid}", daemon=True).start()

    def watch_foreign(self, pid: int, started: float) -> None:
        def run() -> None:
            while alive(pid, started):
                time.sleep(POLL_INTERVAL)
            self.finish(
                ExitResult(
                    exit_code=0,
                    err=f"process {pid} exited while it was not a child of this client; "
                    "its exit code is unknown",
                )
            )

        threading.Thread(target=run, name=f"raw_exec-poll-{pid}", daemon=True).start()


def tree(pid: int) -> list[psutil.Process]:
    """The process and every descendant that is still there."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_tree(pid: int, procs: list[psutil.Process]) -> None:
    """SIGKILL the process group led by ``pid`` and every process in ``procs``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def usage(pid: int) -> tuple[ResourceUsage, float]:
    """Memory and CPU over the whole tree; returns the usage and total CPU seconds."""
    rss = swap = 0
    user = system = 0.0
    for proc in tree(pid):
        try:
            with proc.oneshot():
                mem = proc.memory_info()
                times = proc.cpu_times()
        except psutil.Error:
            continue
        rss += mem.rss
        user += times.user + getattr(times, "children_user", 0.0)
        system += times.system + getattr(times, "children_system", 0.0)
    memory = MemoryStats(rss=rss, swap=swap, usage=rss, measured=["RSS"])
    cpu = CpuStats(
        user_mode=user, system_mode=system, measured=["System Mode", "User Mode", "Percent"]
    )
    return ResourceUsage(memory_stats=memory, cpu_stats=cpu), user + system
