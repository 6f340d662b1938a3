"""Task log collection and rotation: ``alloc/logs/<task>.stdout.N`` and ``<task>.stderr.N``.

Design: the task writes into a named pipe (``alloc/logs/.<task>.stdout.fifo``) and a reader
thread in the client copies it into rotated files, keeping ``max_files`` files of at most
``max_file_size`` MB each (Nomad's defaults: 10 x 10 MB). The higher N, the newer the file.

Why a FIFO and not files the task writes directly: rotation needs someone to move the writer
to the next file, which a task's inherited file descriptor cannot do. Why it survives a
client restart: the driver opens the FIFO for the task read-write, so the task always holds
a reader end and never gets SIGPIPE while no client reads; what it writes waits in the pipe
buffer (64 KiB, then the write blocks) until the restarted client opens the FIFO again and
resumes rotation after the newest existing file. Nomad gets the same property from its
separate logmon process.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import select
import stat
import threading
from pathlib import Path
from typing import BinaryIO

from nomadic.structs import LogConfig

__all__ = ["FifoReader", "FileRotator", "TaskLogs"]

log = logging.getLogger("nomadic.client.logs")

MB = 1024 * 1024
READ_SIZE = 64 * 1024
NEWLINE_SCAN = 32 * 1024  # look this far back for a newline to rotate on, like Nomad


class FileRotator:
    """Appends to ``<dir>/<name>.<N>``, starting a new file past ``max_size`` bytes and
    deleting the oldest beyond ``max_files``."""

    def __init__(self, directory: Path, name: str, max_files: int, max_size: int) -> None:
        self.directory = directory
        self.name = name
        self.max_files = max(max_files, 1)
        self.max_size = max(max_size, 1)
        self._pattern = re.compile(rf"^{re.escape(name)}\.(\d+)$")
        self.index = max(self.indexes(), default=0)
        self._file: BinaryIO = self._open()
        self.size = self._file.tell()

    def path(self, index: int) -> Path:
        return self.directory / f"{self.name}.{index}"

    def indexes(self) -> list[int]:
        found = []
        for entry in os.listdir(self.directory):
            m = self._pattern.match(entry)
            if m:
                found.append(int(m.group(1)))
        return sorted(found)

    def write(self, data: bytes) -> None:
        while data:
            room = self.max_size - self.size
            if room <= 0:
                self._rotate()
                continue
            chunk = data[:room]
            if len(data) > room:
                cut = chunk.rfind(b"\n", max(0, room - NEWLINE_SCAN))
                if cut >= 0:
                    chunk = chunk[: cut + 1]
                elif self.size > 0:
                    self._rotate()  # start the line in a fresh file rather than split it
                    continue
            self._file.write(chunk)
            self.size += len(chunk)
            data = data[len(chunk) :]
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def _open(self) -> BinaryIO:
        return open(self.path(self.index), "ab")

    def _rotate(self) -> None:
        self._file.close()
        self.index += 1
        self._file = self._open()
        self.size = 0
        for old in self.indexes():
            if old <= self.index - self.max_files:
                with contextlib.suppress(FileNotFoundError):
                    self.path(old).unlink()


class FifoReader:
    """A thread copying one FIFO into a FileRotator until stopped (then it drains the FIFO)."""

    def __init__(self, fifo: Path, rotator: FileRotator) -> None:
        self.fifo = fifo
        self.rotator = rotator
        self._stop = threading.Event()
        if not (fifo.exists() and stat.S_ISFIFO(fifo.stat().st_mode)):
            with contextlib.suppress(FileNotFoundError):
                fifo.unlink()
            os.mkfifo(fifo, 0o600)
        # Read-write so open never blocks and the pipe never reports EOF between task runs.
        self._fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._run, name=f"logs-{fifo.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Copy what is already in the pipe, then stop and close."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._fd], [], [], 0.1)
                if ready:
                    self._drain()
            self._drain()
        except Exception:  # a supervisor loop: log, never take the client down
            log.exception("log reader for %s failed", self.fifo)
        finally:
            os.close(self._fd)
            self.rotator.close()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._fd, READ_SIZE)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                raise
            if not data:
                return
            self.rotator.write(data)


class TaskLogs:
    """stdout and stderr collection for one task; ``paths`` go into the driver's TaskConfig."""

    def __init__(self, logs_dir: Path, task: str, config: LogConfig) -> None:
        self.logs_dir = logs_dir
        self.task = task
        self.config = config
        self._readers: list[FifoReader] = []

    @property
    def paths(self) -> tuple[str, str]:
        if self.config.disabled:
            return os.devnull, os.devnull
        return (
            str(self.logs_dir / f".{self.task}.stdout.fifo"),
            str(self.logs_dir / f".{self.task}.stderr.fifo"),
        )

    def start(self) -> None:
        if self.config.disabled or self._readers:
            return
        size = self.config.max_file_size_mb * MB
        for stream, fifo in zip(("stdout", "stderr"), self.paths, strict=True):
            rotator = FileRotator(
                self.logs_dir, f"{self.task}.{stream}", self.config.max_files, size
            )
            self._readers.append(FifoReader(Path(fifo), rotator))

    def stop(self) -> None:
        readers, self._readers = self._readers, []
        for reader in readers:
            reader.stop()
