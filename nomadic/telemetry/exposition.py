"""Rendering the sink: Prometheus text exposition (format 0.0.4) and Nomad's JSON.

Prometheus names are the dotted keys with dots (and dashes) turned into underscores, exactly as
Nomad's go-metrics Prometheus sink does: ``nomad.client.allocs.memory.rss`` ->
``nomad_client_allocs_memory_rss``. Counters keep their names (no ``_total`` suffix, like
Nomad's; ``prometheus_client.generate_latest`` would add one, which is why the text is written
here, about three times faster too; tests read it back with prometheus_client's parser and
``promtool``). Timers are summaries in milliseconds with quantiles 0.5/0.9/0.99.

Gauges change only once per ``collection_interval``, so their text is cached until the sink's
``generation`` moves; a scrape then renders only counters and summaries.

The JSON form is what ``GET /v1/metrics`` answers (go-metrics' ``DisplayMetrics``)::

    {"Timestamp": "2026-01-02 10:40:00 +0000 UTC",
     "Gauges":   [{"Name": "...", "Value": 1.0, "Labels": {...}}],
     "Counters": [{"Name": "...", "Count": 1, "Rate": 0.1, "Sum": 1.0, "Min": 1.0,
                   "Max": 1.0, "Mean": 1.0, "Stddev": 0.0, "Labels": {...}}],
     "Samples":  [same fields as Counters], "Points": []}
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any

from .sink import INTERVAL, Aggregate, Labels, Series, Sink

__all__ = ["CONTENT_TYPE", "PrometheusRenderer", "prom_name", "render_json"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_SPECIAL = {math.inf: "+Inf", -math.inf: "-Inf"}


def format_value(value: float) -> str:
    """A sample value as the text format reads it: repr for finite floats, +Inf/-Inf/NaN."""
    if value != value:
        return "NaN"
    return _SPECIAL.get(value) or repr(value)


_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_names: dict[str, str] = {}


def prom_name(key: str) -> str:
    name = _names.get(key)
    if name is None:
        name = _names[key] = _INVALID.sub("_", key)
    return name


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


_label_text: dict[Labels, str] = {}
_LABEL_CACHE_MAX = 500_000  # label sets remembered (an allocation's set is reused per scrape)


def _labels(labels: Labels, extra: str = "") -> str:
    if not extra:
        text = _label_text.get(labels)
        if text is not None:
            return text
    parts = [f'{_INVALID.sub("_", k)}="{_escape(v)}"' for k, v in labels]
    if extra:
        parts.append(extra)
        return "{" + ",".join(parts) + "}"
    text = "{" + ",".join(parts) + "}" if parts else ""
    if len(_label_text) >= _LABEL_CACHE_MAX:
        _label_text.clear()
    _label_text[labels] = text
    return text


class PrometheusRenderer:
    """Text exposition of one sink, caching the gauge part between collections."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self._lock = threading.Lock()
        self._gauge_generation = -1
        self._gauge_text = ""

    def render(self) -> str:
        return self._gauges() + self._counters_and_summaries()

    def _gauges(self) -> str:
        with self._lock:
            if self._gauge_generation != self.sink.generation:
                generation = self.sink.generation
                families: dict[str, list[str]] = {}
                for (key, labels), value in self.sink.gauge_values():
                    name = prom_name(key)
                    lines = families.get(name)
                    if lines is None:
                        lines = families[name] = [f"# HELP {name} {key}\n# TYPE {name} gauge\n"]
                    lines.append(f"{name}{_labels(labels)} {format_value(value)}\n")
                self._gauge_text = "".join("".join(lines) for lines in families.values())
                self._gauge_generation = generation
            return self._gauge_text

    def _counters_and_summaries(self) -> str:
        counters, summaries = self.sink.cumulative()
        families: dict[str, list[str]] = {}
        for (key, labels), value in counters.items():
            name = prom_name(key)
            lines = families.get(name)
            if lines is None:
                lines = families[name] = [f"# HELP {name} {key}\n# TYPE {name} counter\n"]
            lines.append(f"{name}{_labels(labels)} {format_value(value)}\n")
        now = self.sink.now()
        for (key, labels), state in summaries.items():
            name = prom_name(key)
            if name in families and not families[name][0].endswith("summary\n"):
                name += "_timer"  # a key used both as counter and timer: keep both parseable
            lines = families.get(name)
            if lines is None:
                lines = families[name] = [f"# HELP {name} {key}\n# TYPE {name} summary\n"]
            for q, v in state.quantiles(now):
                quantile = _labels(labels, f'quantile="{q}"')
                lines.append(f"{name}{quantile} {format_value(v)}\n")
            lines.append(f"{name}_sum{_labels(labels)} {format_value(state.total)}\n")
            lines.append(f"{name}_count{_labels(labels)} {state.count}\n")
        return "".join("".join(lines) for lines in families.values())


def _go_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(epoch))


def _aggregate(series: Series, agg: Aggregate, seconds: float) -> dict[str, Any]:
    key, labels = series
    return {
        "Name": key,
        "Count": agg.count,
        "Rate": agg.total / seconds if seconds > 0 else 0.0,
        "Sum": agg.total,
        "Min": agg.min if agg.count else 0.0,
        "Max": agg.max if agg.count else 0.0,
        "Mean": agg.mean(),
        "Stddev": agg.stddev(),
        "Labels": dict(labels),
    }


def render_json(sink: Sink) -> dict[str, Any]:
    """Nomad's ``/v1/metrics`` JSON: gauges now, counters and samples of this interval."""
    start, counters, samples = sink.interval()
    wall_start = time.time() - (sink.now() - start)
    gauges = [
        {"Name": key, "Value": value if math.isfinite(value) else 0.0, "Labels": dict(labels)}
        for (key, labels), value in sink.gauge_values()
    ]
    gauges.sort(key=lambda g: (str(g["Name"]), str(g["Labels"])))
    return {
        "Timestamp": _go_time(wall_start),
        "Gauges": gauges,
        "Points": [],
        "Counters": sorted(
            (_aggregate(s, a, INTERVAL) for s, a in counters.items()), key=lambda c: c["Name"]
        ),
        "Samples": sorted(
            (_aggregate(s, a, INTERVAL) for s, a in samples.items()), key=lambda c: c["Name"]
        ),
    }
