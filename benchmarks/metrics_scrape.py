"""Scrape time of ``GET /v1/metrics?format=prometheus`` with 10,000 allocations' worth of series.

Each allocation contributes what a client publishes per task (8 memory + 6 CPU gauges from the
driver's stats, 3 allocated gauges: 17 series), plus a few restart counters; the server side
adds broker/plan/worker timers and job summaries for 1,000 jobs. Figures:

- collect: filling one collection's GaugeSet (what the client does every collection_interval);
- render cold: the first scrape after a collection (gauge text rebuilt), first ever and in
  steady state (label text of known series remembered);
- render warm: later scrapes before the next collection (gauge text cached);
- HTTP scrape: the same through a real aiohttp server on 127.0.0.1 (median of RUNS);
- JSON: ``GET /v1/metrics`` rendering.

Run: ``uv run python benchmarks/metrics_scrape.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import urllib.request

from aiohttp import web

from nomadic.http.metrics import TELEMETRY, Telemetry
from nomadic.http.metrics import routes as metrics_routes
from nomadic.telemetry import GaugeSet, PrometheusRenderer, Sink, render_json
from nomadic.telemetry.sink import label_tuple

ALLOCS = 10_000
JOBS = 1_000
RUNS = 10

MEMORY = (
    "rss",
    "cache",
    "swap",
    "usage",
    "max_usage",
    "kernel_usage",
    "kernel_max_usage",
    "mapped_file",
)
CPU = ("total_percent", "total_ticks", "user", "system", "throttled_time", "throttled_periods")


def collect(gauges: GaugeSet) -> None:
    for i in range(ALLOCS):
        labels = label_tuple(
            {
                "job": f"job-{i % JOBS}",
                "task_group": "web",
                "task": "server",
                "alloc_id": f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd",
                "namespace": "default",
                "host": f"client-{i % 100}",
            }
        )
        for key in MEMORY:
            gauges.set(f"nomad.client.allocs.memory.{key}", 1_000_000 + i, labels)
        for key in CPU:
            gauges.set(f"nomad.client.allocs.cpu.{key}", 0.5 * i, labels)
        gauges.set("nomad.client.allocs.memory.allocated", 256 * 1024 * 1024, labels)
        gauges.set("nomad.client.allocs.memory.max_allocated", 256 * 1024 * 1024, labels)
        gauges.set("nomad.client.allocs.cpu.allocated", 100, labels)
    for j in range(JOBS):
        labels = {"job": f"job-{j}", "task_group": "web", "namespace": "default"}
        for key in ("queued", "starting", "running", "complete", "failed", "lost", "unknown"):
            gauges.set(f"nomad.nomad.job_summary.{key}", 10, labels)


def fill_hot_paths(sink: Sink) -> None:
    for i in range(ALLOCS // 10):
        sink.incr_counter("nomad.client.allocs.restart", 1, {"alloc_id": f"{i:08d}", "task": "s"})
    for i in range(2_000):
        labels = {
            "job": f"job-{i % JOBS}",
            "namespace": "default",
            "eval_type": "service",
            "triggered_by": "job-register",
        }
        sink.add_sample("nomad.nomad.broker.wait_time", 0.1 * (i % 50), labels)
        sink.add_sample("nomad.nomad.plan.submit", 1.0 + (i % 7))
        sink.add_sample("nomad.raft.commitTime", 0.3 + (i % 5) / 10)


def timed(fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000, result


async def http_scrapes(sink: Sink) -> list[float]:
    app = web.Application()
    app[TELEMETRY] = Telemetry(sink, prometheus_metrics=True)
    app.router.add_routes(metrics_routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/v1/metrics?format=prometheus"

    def scrape() -> int:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return len(resp.read())

    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await asyncio.to_thread(scrape)
        times.append((time.perf_counter() - start) * 1000)
    await runner.cleanup()
    return times


def main() -> None:
    sink = Sink()
    gauges = GaugeSet()
    collect_ms, _ = timed(lambda: collect(gauges))
    sink.replace_gauges("client", gauges)
    fill_hot_paths(sink)
    renderer = PrometheusRenderer(sink)
    cold_ms, text = timed(renderer.render)
    again = GaugeSet()
    collect(again)
    sink.replace_gauges("client", again)
    steady_ms, _ = timed(renderer.render)
    warm = [timed(renderer.render)[0] for _ in range(RUNS)]
    json_ms, _ = timed(lambda: render_json(sink))
    series = sum(1 for line in str(text).splitlines() if line and not line.startswith("#"))
    http = asyncio.run(http_scrapes(sink))
    print(f"allocations:              {ALLOCS:,}")
    print(f"series in exposition:     {series:,} ({len(str(text)) / 1e6:.1f} MB)")
    print(f"collect (GaugeSet fill):  {collect_ms:8.1f} ms")
    print(f"render cold (first):      {cold_ms:8.1f} ms")
    print(f"render cold (steady):     {steady_ms:8.1f} ms")
    print(f"render warm (median):     {statistics.median(warm):8.1f} ms")
    print(f"HTTP scrape (median):     {statistics.median(http):8.1f} ms  (min {min(http):.1f})")
    print(f"JSON /v1/metrics render:  {json_ms:8.1f} ms")


if __name__ == "__main__":
    main()
