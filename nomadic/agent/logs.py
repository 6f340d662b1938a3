"""Agent log output: Nomad-style text lines or JSON lines (``log_json``), and the fan-out that
``GET /v1/agent/monitor`` (``nomadic monitor``) streams from.

Structured fields ride on ``extra=``: every line about an evaluation, plan, allocation or node
carries ``eval_id``, ``alloc_id``, ``node_id`` and/or ``job_id``, as fields of the JSON object
or ``key=value`` pairs after a text line, so one ID finds a placement's whole story.

A monitor subscribes with its own level and format; while one asks for a lower level than the
agent's, the root logger is lowered and the stderr handler keeps filtering at the agent's.
Records reach subscribers through ``call_soon_threadsafe`` (Raft and driver threads log too)
into bounded queues: a slow reader loses lines (counted), never stalls the agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time

_TEXT_FORMAT = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"


class JSONFormatter(logging.Formatter):
    """One JSON object per line: @timestamp, @level, @module, @message and any extras."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "@level": record.levelname.lower(),
            "@module": record.name,
            "@message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["@exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """Nomad-style text lines; structured extras (eval_id, alloc_id ...) appended as k=v."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in JSONFormatter._RESERVED and not key.startswith("_")
        ]
        return f"{line}: {' '.join(extras)}" if extras else line


_LEVELS = {"TRACE": logging.DEBUG, "WARN": logging.WARNING}


def level_number(level: str) -> int:
    """Nomad's level names (TRACE, DEBUG, INFO, WARN, ERROR) as logging levels."""
    name = level.upper()
    number = _LEVELS.get(name, logging.getLevelName(name))
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}: use TRACE, DEBUG, INFO, WARN or ERROR")
    return number


class Subscription:
    """One monitor's queue of formatted lines."""

    def __init__(self, level: int, json_format: bool, loop: asyncio.AbstractEventLoop) -> None:
        self.level = level
        self.formatter: logging.Formatter = JSONFormatter() if json_format else TextFormatter()
        self.loop = loop
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=4096)
        self.dropped = 0

    def close(self) -> None:
        """End the stream: the reader gets ``None`` (even when the queue is full)."""

        def end() -> None:
            while self.queue.full():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

        self.loop.call_soon_threadsafe(end)

    def offer(self, line: str) -> None:  # on the subscriber's loop
        try:
            self.queue.put_nowait(line)
        except asyncio.QueueFull:
            self.dropped += 1


class LogBroadcaster(logging.Handler):
    """Copies every record to the subscribed monitors, each at its own level and format."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self._subs: list[Subscription] = []
        self._subs_lock = threading.Lock()
        self.agent_level = logging.INFO

    def subscribe(self, level: int, json_format: bool) -> Subscription:
        sub = Subscription(level, json_format, asyncio.get_running_loop())
        with self._subs_lock:
            self._subs.append(sub)
        self._adjust_root()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._subs_lock:
            if sub in self._subs:
                self._subs.remove(sub)
        self._adjust_root()

    def close_all(self) -> None:
        """End every monitor stream (the agent is stopping)."""
        with self._subs_lock:
            subs = list(self._subs)
        for sub in subs:
            sub.close()

    def _adjust_root(self) -> None:
        with self._subs_lock:
            levels = [s.level for s in self._subs]
        logging.getLogger().setLevel(min([self.agent_level, *levels]))

    def emit(self, record: logging.LogRecord) -> None:
        with self._subs_lock:
            subs = [s for s in self._subs if record.levelno >= s.level]
        for sub in subs:
            try:
                line = sub.formatter.format(record)
                sub.loop.call_soon_threadsafe(sub.offer, line)
            except RuntimeError:  # the subscriber's loop closed under us
                continue
            except Exception:
                self.handleError(record)


broadcaster = LogBroadcaster()


def setup(level: str = "INFO", json_format: bool = False) -> None:
    number = level_number(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_format else TextFormatter())
    handler.setLevel(number)
    root = logging.getLogger()
    root.handlers[:] = [handler, broadcaster]
    broadcaster.agent_level = number
    root.setLevel(number)
    # pysyncobj and aiohttp are chatty at DEBUG; keep our own debug output readable.
    for noisy in ("aiohttp.access", "pysyncobj", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, number))
