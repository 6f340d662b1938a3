"""The gauge collection loop: every ``collection_interval`` each registered collector fills a
fresh ``GaugeSet`` that replaces its previous one in the sink.

Collectors are the only place gauges are computed (host stats, allocation stats from drivers,
broker and plan queue depths, job summaries ...), so request and scheduling paths never pay for
them. A collector may be a plain function or a coroutine function; one that raises is logged
and its gauges are dropped until it succeeds again, so a bad value never goes stale silently.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable

from .sink import GaugeSet, Sink

__all__ = ["CollectionLoop"]

log = logging.getLogger("nomadic.telemetry")

Collector = Callable[[GaugeSet], object]


class CollectionLoop:
    def __init__(self, sink: Sink, interval: float) -> None:
        self.sink = sink
        self.interval = interval
        self._collectors: dict[str, Collector] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, collector: Collector) -> None:
        self._collectors[name] = collector

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="telemetry")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for name in self._collectors:
            self.sink.drop_gauges(name)

    async def collect_once(self) -> None:
        for name, collector in list(self._collectors.items()):
            gauges = GaugeSet()
            try:
                result = collector(gauges)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a supervisor loop: log, drop, keep collecting the others
                log.exception("metrics collector %s failed", name)
                self.sink.drop_gauges(name)
                continue
            self.sink.replace_gauges(name, gauges)

    async def _run(self) -> None:
        while True:
            await self.collect_once()
            await asyncio.sleep(self.interval)
