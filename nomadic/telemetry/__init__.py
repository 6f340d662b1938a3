"""Telemetry: the process's metrics sink and the names Nomad's dashboards expect.

    hot paths --incr_counter / measure_since--> Sink <--GaugeSet-- CollectionLoop (every
                                                  |                collection_interval)
               GET /v1/metrics[?format=prometheus] <-- exposition (JSON / text, gauge cache)

``default_sink`` is the one sink of this process (go-metrics keeps a global one the same way);
the module-level functions record into it. Key names are Nomad's dotted ones
(``nomad.nomad.broker.wait_time``); see docs/metrics.md for the list.
"""

from __future__ import annotations

from collections.abc import Mapping

from .collector import CollectionLoop
from .exposition import CONTENT_TYPE, PrometheusRenderer, prom_name, render_json
from .sink import GaugeSet, Sink

__all__ = [
    "CONTENT_TYPE",
    "CollectionLoop",
    "GaugeSet",
    "PrometheusRenderer",
    "Sink",
    "add_sample",
    "default_sink",
    "incr_counter",
    "measure_since",
    "prom_name",
    "render_json",
]

default_sink = Sink()


def incr_counter(key: str, value: float = 1.0, labels: Mapping[str, str] | None = None) -> None:
    default_sink.incr_counter(key, value, labels)


def add_sample(key: str, value: float, labels: Mapping[str, str] | None = None) -> None:
    default_sink.add_sample(key, value, labels)


def measure_since(key: str, start: float, labels: Mapping[str, str] | None = None) -> None:
    """Record milliseconds since ``start`` (a ``time.monotonic()`` reading) under ``key``."""
    default_sink.measure_since(key, start, labels)
