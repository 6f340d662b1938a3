"""The in-memory metrics sink of one agent process, in go-metrics' shape (Nomad's library).

Three kinds of series, each a dotted key (``nomad.nomad.plan.submit``) plus labels:

- **counters** (``incr_counter``): cumulative for Prometheus, aggregated per 10 s interval for
  the JSON form (``Count``, ``Sum``, ``Min``, ``Max``, ``Mean``, ``Stddev``, ``Rate``);
- **samples** (``add_sample``/``measure_since``; timers in milliseconds): a Prometheus summary
  (quantiles 0.5/0.9/0.99 over the last 10 s, like go-metrics' Prometheus sink, plus ``_sum``
  and ``_count``) and the same per-interval aggregate in JSON;
- **gauges**: set by collectors every ``collection_interval`` (``GaugeSet``), never on a hot
  path; ``set_gauge`` exists for the rare one-off.

Counters and samples are cheap (a dict lookup and a few float operations under a lock) so they
can sit on hot paths; gauges are computed off them. Like go-metrics, there is one sink per
process (``nomadic.telemetry.default_sink``); an agent process hosts one agent.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Aggregate", "GaugeSet", "Labels", "Series", "Sink", "SummaryState", "label_tuple"]

Labels = tuple[tuple[str, str], ...]
Series = tuple[str, Labels]  # (dotted key, sorted labels)

INTERVAL = 10.0  # seconds per JSON aggregation interval (go-metrics' inmem sink)
SUMMARY_MAX_AGE = 10.0  # seconds of samples behind the Prometheus quantiles
SUMMARY_MAX_SAMPLES = 512  # per series: bounds memory and scrape cost
QUANTILES = (0.5, 0.9, 0.99)


def label_tuple(labels: Mapping[str, str] | Labels | None) -> Labels:
    """Sorted (name, value) pairs; a tuple is taken as already made by this function."""
    if not labels:
        return ()
    if isinstance(labels, tuple):
        return labels
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


@dataclass
class Aggregate:
    """go-metrics' AggregateSample over one interval."""

    count: int = 0
    total: float = 0.0
    sumsq: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.sumsq += value * value
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def stddev(self) -> float:
        if self.count < 2:
            return 0.0
        num = self.count * self.sumsq - self.total * self.total
        return math.sqrt(max(num, 0.0) / (self.count * (self.count - 1)))


@dataclass
class SummaryState:
    """A Prometheus summary: cumulative sum/count and a window of recent observations."""

    count: int = 0
    total: float = 0.0
    recent: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=SUMMARY_MAX_SAMPLES)
    )

    def quantiles(self, now: float) -> list[tuple[float, float]]:
        window = sorted(v for t, v in self.recent if now - t <= SUMMARY_MAX_AGE)
        if not window:
            return [(q, math.nan) for q in QUANTILES]
        return [(q, window[min(int(q * len(window)), len(window) - 1)]) for q in QUANTILES]


@dataclass
class GaugeSet:
    """One collector's gauges from its last run, replaced whole each ``collection_interval``."""

    values: dict[Series, float] = field(default_factory=dict)

    def set(self, key: str, value: float, labels: Mapping[str, str] | Labels | None = None) -> None:
        """Pass ``label_tuple(...)`` once for many gauges of one series set (it sorts)."""
        self.values[(key, label_tuple(labels))] = float(value)


Collector = Callable[[GaugeSet], object]  # sync; may be a coroutine function (awaited)


class Sink:
    """Counters, samples and gauges of one process; thread-safe (Raft's thread records too)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.counters: dict[Series, float] = {}
        self.summaries: dict[Series, SummaryState] = {}
        self.gauges: dict[str, GaugeSet] = {}
        self.adhoc_gauges = GaugeSet()
        self.interval_start = self._interval_of(clock())
        self.interval_counters: dict[Series, Aggregate] = {}
        self.interval_samples: dict[Series, Aggregate] = {}
        self.generation = 0  # bumped whenever gauges change (renderers cache on it)

    # -- recording (hot paths) ----------------------------------------------------------

    def incr_counter(
        self, key: str, value: float = 1.0, labels: Mapping[str, str] | None = None
    ) -> None:
        series = (key, label_tuple(labels))
        with self._lock:
            self._roll()
            self.counters[series] = self.counters.get(series, 0.0) + value
            agg = self.interval_counters.get(series)
            if agg is None:
                agg = self.interval_counters[series] = Aggregate()
            agg.add(value)

    def add_sample(self, key: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        series = (key, label_tuple(labels))
        now = self._clock()
        with self._lock:
            self._roll()
            state = self.summaries.get(series)
            if state is None:
                state = self.summaries[series] = SummaryState()
            state.count += 1
            state.total += value
            state.recent.append((now, value))
            agg = self.interval_samples.get(series)
            if agg is None:
                agg = self.interval_samples[series] = Aggregate()
            agg.add(value)

    def measure_since(
        self, key: str, start: float, labels: Mapping[str, str] | None = None
    ) -> None:
        """A timer: milliseconds since ``start`` (a ``time.monotonic()`` reading)."""
        self.add_sample(key, (time.monotonic() - start) * 1000.0, labels)

    def set_gauge(self, key: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        with self._lock:
            self.adhoc_gauges.set(key, value, labels)
            self.generation += 1

    # -- gauges from collectors ---------------------------------------------------------

    def replace_gauges(self, source: str, gauges: GaugeSet) -> None:
        with self._lock:
            self.gauges[source] = gauges
            self.generation += 1

    def drop_gauges(self, source: str) -> None:
        with self._lock:
            if self.gauges.pop(source, None) is not None:
                self.generation += 1

    # -- reading ------------------------------------------------------------------------

    def gauge_values(self) -> Iterable[tuple[Series, float]]:
        with self._lock:
            sets = [*self.gauges.values(), self.adhoc_gauges]
        for gauge_set in sets:
            yield from gauge_set.values.items()

    def cumulative(self) -> tuple[dict[Series, float], dict[Series, SummaryState]]:
        """Copies of the counters and summaries (for a Prometheus scrape)."""
        with self._lock:
            summaries = {
                s: SummaryState(st.count, st.total, deque(st.recent, maxlen=SUMMARY_MAX_SAMPLES))
                for s, st in self.summaries.items()
            }
            return dict(self.counters), summaries

    def interval(self) -> tuple[float, dict[Series, Aggregate], dict[Series, Aggregate]]:
        """The current interval's start (monotonic) and its counter and sample aggregates."""
        with self._lock:
            self._roll()
            return (
                self.interval_start,
                dict(self.interval_counters),
                dict(self.interval_samples),
            )

    def now(self) -> float:
        return self._clock()

    def _interval_of(self, now: float) -> float:
        return now - (now % INTERVAL)

    def _roll(self) -> None:
        start = self._interval_of(self._clock())
        if start != self.interval_start:
            self.interval_start = start
            self.interval_counters = {}
            self.interval_samples = {}
