"""``run_process_exec``: the interactive exec runner process-based drivers share."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from nomadic.plugin import ExecInput, ExecStreams, run_process_exec

ENV = {"PATH": "/usr/bin:/bin"}


def collect() -> tuple[ExecStreams, list[bytes], list[bytes]]:
    out: list[bytes] = []
    err: list[bytes] = []
    return ExecStreams(out.append, err.append), out, err


def test_pipes_carry_stdin_stdout_stderr_and_the_exit_code(tmp_path: Path) -> None:
    streams, out, err = collect()
    streams.put_input(ExecInput(data=b"one\n"))
    streams.put_input(ExecInput(data=b"two\n", close=True))
    script = "cat; pwd; echo bad >&2; exit 9"
    result = run_process_exec(
        ["/bin/sh", "-c", script], cwd=str(tmp_path), env=ENV, tty=False, streams=streams
    )
    assert result.exit_code == 9 and result.signal == 0
    assert b"".join(out) == f"one\ntwo\n{tmp_path}\n".encode()
    assert b"".join(err) == b"bad\n"


def test_tty_is_the_controlling_terminal_and_follows_resizes(tmp_path: Path) -> None:
    streams, out, _ = collect()
    streams.put_input(ExecInput(height=40, width=120))
    streams.put_input(ExecInput(data=b"go\n"))
    script = "read x; tty; stty size; ps -o tty= -p $$"
    result = run_process_exec(
        ["/bin/sh", "-c", script], cwd=str(tmp_path), env=ENV, tty=True, streams=streams
    )
    lines = b"".join(out).decode().replace("\r", "").splitlines()
    assert result.exit_code == 0
    assert lines[0] == "go" and lines[1].startswith("/dev/pts/") and lines[2] == "40 120"
    assert lines[3].strip() == lines[1].removeprefix("/dev/")  # its controlling terminal


def test_cancel_kills_the_command(tmp_path: Path) -> None:
    streams, out, _ = collect()
    pids: list[int] = []

    def record(data: bytes) -> None:
        out.append(data)
        if not pids:
            pids.append(int(data.split()[0]))
            streams.cancel()

    streams.stdout = record
    began = time.monotonic()
    result = run_process_exec(
        ["/bin/sh", "-c", "echo $$; exec sleep 600"],
        cwd=str(tmp_path),
        env=ENV,
        tty=False,
        streams=streams,
    )
    assert result.signal == 9 and time.monotonic() - began < 10
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == "zombie"
