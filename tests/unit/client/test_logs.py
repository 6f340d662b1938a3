"""Log rotation: file names, sizes, count; FIFO collection."""

from __future__ import annotations

import os
import time
from pathlib import Path

from nomadic.client.logs import FileRotator, TaskLogs
from nomadic.structs import LogConfig


def names(d: Path) -> list[str]:
    return sorted(
        (p.name for p in d.iterdir() if not p.name.startswith(".")),
        key=lambda n: int(n.rsplit(".", 1)[1]),
    )


def test_rotates_at_max_size_on_line_boundaries(tmp_path: Path) -> None:
    r = FileRotator(tmp_path, "web.stdout", max_files=10, max_size=10)
    r.write(b"aaaa\nbbbb\ncccc\n")
    r.close()
    assert names(tmp_path) == ["web.stdout.0", "web.stdout.1"]
    assert (tmp_path / "web.stdout.0").read_bytes() == b"aaaa\nbbbb\n"
    assert (tmp_path / "web.stdout.1").read_bytes() == b"cccc\n"


def test_keeps_only_max_files_newest(tmp_path: Path) -> None:
    r = FileRotator(tmp_path, "t.stderr", max_files=3, max_size=4)
    for i in range(6):
        r.write(f"{i}{i}{i}\n".encode())
    r.close()
    assert names(tmp_path) == ["t.stderr.3", "t.stderr.4", "t.stderr.5"]
    assert (tmp_path / "t.stderr.5").read_bytes() == b"555\n"
    assert all(p.stat().st_size <= 4 for p in tmp_path.iterdir())


def test_long_line_without_newline_is_split(tmp_path: Path) -> None:
    r = FileRotator(tmp_path, "t.stdout", max_files=10, max_size=4)
    r.write(b"abcdefghij")
    r.close()
    assert [(tmp_path / n).read_bytes() for n in names(tmp_path)] == [b"abcd", b"efgh", b"ij"]


def test_resumes_after_newest_existing_file(tmp_path: Path) -> None:
    (tmp_path / "t.stdout.0").write_bytes(b"old0")
    (tmp_path / "t.stdout.7").write_bytes(b"ab")
    r = FileRotator(tmp_path, "t.stdout", max_files=10, max_size=4)
    r.write(b"cd")
    r.close()
    assert (tmp_path / "t.stdout.7").read_bytes() == b"abcd"


def test_task_logs_collect_from_fifo(tmp_path: Path) -> None:
    logs = TaskLogs(tmp_path, "web", LogConfig(max_files=2, max_file_size_mb=1))
    logs.start()
    stdout, stderr = logs.paths
    assert stdout.endswith(".web.stdout.fifo") and stderr.endswith(".web.stderr.fifo")
    fd = os.open(stdout, os.O_WRONLY)
    os.write(fd, b"hello\n")
    os.close(fd)
    deadline = time.monotonic() + 10
    out = tmp_path / "web.stdout.0"
    while not (out.exists() and out.read_bytes() == b"hello\n"):
        assert time.monotonic() < deadline, "the reader did not copy the FIFO"
        time.sleep(0.02)
    logs.stop()
    assert (tmp_path / "web.stderr.0").read_bytes() == b""


def test_disabled_logs_go_nowhere(tmp_path: Path) -> None:
    logs = TaskLogs(tmp_path, "web", LogConfig(disabled=True))
    logs.start()
    assert logs.paths == (os.devnull, os.devnull)
    assert list(tmp_path.iterdir()) == []
