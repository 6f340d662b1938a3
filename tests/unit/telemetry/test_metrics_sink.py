"""The metrics sink and its two renderings: Prometheus text and Nomad's JSON."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nomadic.telemetry import GaugeSet, PrometheusRenderer, Sink, prom_name, render_json


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sink(clock: Clock) -> Sink:
    return Sink(clock)


def families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(
            (s.name, dict(s.labels), s.value) for s in family.samples
        )
    return out


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("nomad.client.allocs.memory.rss", "nomad_client_allocs_memory_rss"),
        ("nomad.nomad.broker.wait_time", "nomad_nomad_broker_wait_time"),
        ("nomad.raft.commitTime", "nomad_raft_commitTime"),
        (
            "nomad.nomad.worker.invoke_scheduler.service",
            "nomad_nomad_worker_invoke_scheduler_service",
        ),
        ("nomad.client.host.cpu-0", "nomad_client_host_cpu_0"),
    ],
    ids=["client", "server", "raft-camel", "nested", "dash"],
)
def test_prometheus_names_are_nomads(key: str, name: str) -> None:
    assert prom_name(key) == name


def test_counters_keep_nomads_name_without_total_suffix(sink: Sink) -> None:
    sink.incr_counter("nomad.nomad.rpc.request", 1, {"method": "Job.Register"})
    sink.incr_counter("nomad.nomad.rpc.request", 2, {"method": "Job.Register"})
    text = PrometheusRenderer(sink).render()
    assert "# TYPE nomad_nomad_rpc_request counter\n" in text
    assert 'nomad_nomad_rpc_request{method="Job.Register"} 3.0\n' in text
    assert "_total" not in text


def test_timers_are_summaries_in_milliseconds(sink: Sink, clock: Clock) -> None:
    for ms in range(1, 101):
        sink.add_sample("nomad.nomad.plan.submit", float(ms))
    parsed = families(PrometheusRenderer(sink).render())["nomad_nomad_plan_submit"]
    by_quantile = {labels["quantile"]: v for _, labels, v in parsed if "quantile" in labels}
    assert by_quantile == {"0.5": 51.0, "0.9": 91.0, "0.99": 100.0}
    assert ("nomad_nomad_plan_submit_count", {}, 100.0) in parsed
    assert ("nomad_nomad_plan_submit_sum", {}, 5050.0) in parsed
    clock.now += 11  # quantiles cover the last 10 s; sum and count are cumulative
    parsed = families(PrometheusRenderer(sink).render())["nomad_nomad_plan_submit"]
    quantiles = [v for name, labels, v in parsed if "quantile" in labels]
    assert all(math.isnan(v) for v in quantiles)
    assert ("nomad_nomad_plan_submit_count", {}, 100.0) in parsed


def test_gauges_are_replaced_per_collector_and_cached(sink: Sink) -> None:
    renderer = PrometheusRenderer(sink)
    first = GaugeSet()
    first.set("nomad.client.allocs.memory.rss", 1024, {"alloc_id": "a1", "job": "web"})
    first.set("nomad.client.allocs.memory.rss", 2048, {"alloc_id": "a2", "job": "web"})
    sink.replace_gauges("client", first)
    text = renderer.render()
    assert renderer.render() is not None and renderer._gauge_text in text
    rss = families(text)["nomad_client_allocs_memory_rss"]
    assert sorted((labels["alloc_id"], v) for _, labels, v in rss) == [("a1", 1024), ("a2", 2048)]
    second = GaugeSet()
    second.set("nomad.client.allocs.memory.rss", 4096, {"alloc_id": "a2", "job": "web"})
    sink.replace_gauges("client", second)  # a1 stopped: its series disappears
    rss = families(renderer.render())["nomad_client_allocs_memory_rss"]
    assert [(labels["alloc_id"], v) for _, labels, v in rss] == [("a2", 4096)]


def test_label_values_are_escaped(sink: Sink) -> None:
    gauges = GaugeSet()
    gauges.set("nomad.nomad.job_summary.running", 1, {"job": 'we"ird\\job\nname'})
    sink.replace_gauges("server", gauges)
    parsed = families(PrometheusRenderer(sink).render())["nomad_nomad_job_summary_running"]
    assert parsed == [("nomad_nomad_job_summary_running", {"job": 'we"ird\\job\nname'}, 1.0)]


def test_json_has_nomads_shape(sink: Sink, clock: Clock) -> None:
    gauges = GaugeSet()
    gauges.set("nomad.nomad.broker.total_ready", 3)
    sink.replace_gauges("server", gauges)
    sink.incr_counter("nomad.client.allocs.restart", 1, {"task": "t"})
    sink.incr_counter("nomad.client.allocs.restart", 3, {"task": "t"})
    sink.add_sample("nomad.raft.commitTime", 2.0)
    sink.add_sample("nomad.raft.commitTime", 4.0)
    body = render_json(sink)
    assert set(body) == {"Timestamp", "Gauges", "Counters", "Samples", "Points"}
    assert body["Timestamp"].endswith(" +0000 UTC")
    assert body["Gauges"] == [
        {"Name": "nomad.nomad.broker.total_ready", "Value": 3.0, "Labels": {}}
    ]
    (restart,) = body["Counters"]
    assert restart["Name"] == "nomad.client.allocs.restart"
    assert (restart["Count"], restart["Sum"], restart["Min"], restart["Max"]) == (2, 4.0, 1, 3)
    assert restart["Rate"] == pytest.approx(0.4)
    assert restart["Labels"] == {"task": "t"}
    (commit,) = body["Samples"]
    assert (commit["Count"], commit["Mean"]) == (2, 3.0)
    assert commit["Stddev"] == pytest.approx(math.sqrt(2))
    clock.now += 10  # a new interval: counters and samples start over, cumulative ones do not
    body = render_json(sink)
    assert body["Counters"] == [] and body["Samples"] == []
    assert 'nomad_client_allocs_restart{task="t"} 4.0' in PrometheusRenderer(sink).render()
