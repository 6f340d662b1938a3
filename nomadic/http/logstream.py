"""Reading a task's rotated log files (``alloc/logs/<task>.<type>.<N>``) as one stream.

The files of one stream, in index order, are read as if concatenated: ``origin=start`` with
``offset`` skips that many bytes from the beginning, ``origin=end`` starts that many bytes
before the end. Following polls for appended data and for rotation to the next file (as
Nomad's logmon rotates), and stops once ``done()`` says no more data will come and everything
written has been read.
"""

from __future__ import annotations

import asyncio
import re
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Chunk", "LogFiles", "stream_logs"]

READ_SIZE = 64 * 1024
POLL_INTERVAL = 0.1  # seconds between checks for new data while following


@dataclass(frozen=True)
class Chunk:
    """``data`` read from ``file`` (relative to the alloc dir), ending at ``offset`` in it."""

    file: str
    offset: int
    data: bytes


class LogFiles:
    """The rotated files of one task stream (``stdout`` or ``stderr``) in an alloc dir."""

    def __init__(self, alloc_dir: Path, task: str, kind: str) -> None:
        self.alloc_dir = alloc_dir
        self.logs_dir = alloc_dir / "alloc" / "logs"
        self._stem = f"{task}.{kind}."
        self._pattern = re.compile(re.escape(self._stem) + r"(\d+)")

    def indexes(self) -> list[int]:
        """Indexes of the files that exist now, ascending."""
        try:
            names = [p.name for p in self.logs_dir.iterdir()]
        except FileNotFoundError:
            return []
        found = (self._pattern.fullmatch(n) for n in names)
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, index: int) -> Path:
        return self.logs_dir / f"{self._stem}{index}"

    def size(self, index: int) -> int:
        try:
            return self.path(index).stat().st_size
        except FileNotFoundError:
            return 0

    def relative(self, index: int) -> str:
        return str(self.path(index).relative_to(self.alloc_dir))

    def locate(self, origin: str, offset: int) -> tuple[int, int]:
        """(file index, offset in it) of a position ``offset`` bytes from ``origin``."""
        indexes = self.indexes()
        if not indexes:
            return 0, 0
        sizes = [self.size(i) for i in indexes]
        pos = offset if origin == "start" else max(sum(sizes) - offset, 0)
        for index, size in zip(indexes, sizes, strict=True):
            if pos <= size:
                return index, pos
            pos -= size
        return indexes[-1], sizes[-1]

    def read(self, index: int, offset: int) -> bytes:
        path = self.path(index)
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # opening a FIFO would block
                return b""
            with path.open("rb") as f:
                f.seek(offset)
                return f.read(READ_SIZE)
        except FileNotFoundError:
            return b""

    def next_index(self, index: int) -> int | None:
        return next((i for i in self.indexes() if i > index), None)


async def stream_logs(
    files: LogFiles,
    *,
    origin: str = "start",
    offset: int = 0,
    follow: bool = False,
    done: Callable[[], bool] = lambda: False,
) -> AsyncIterator[Chunk]:
    """Yield the stream's data from the given position; with ``follow``, keep waiting."""
    index, pos = files.locate(origin, offset)
    finishing = False
    while True:
        if files.size(index) < pos:  # truncated underneath us: start the file again
            pos = 0
        data = files.read(index, pos)
        if data:
            pos += len(data)
            yield Chunk(files.relative(index), pos, data)
            continue
        following = files.next_index(index)
        if following is not None:
            index, pos = following, 0
            continue
        if not follow or finishing:
            return
        # Read once more after ``done`` turns true: data written just before the end counts.
        finishing = done()
        if not finishing:
            await asyncio.sleep(POLL_INTERVAL)
