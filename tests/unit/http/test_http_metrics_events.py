"""``/v1/metrics``, ``/v1/event/stream`` and ``/v1/agent/monitor`` over the HTTP app."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from http_fakes import FakeClient, FakeServer

from nomadic.agent import logs
from nomadic.http import build_app, events
from nomadic.http.metrics import Telemetry
from nomadic.server.event_broker import EventBroker
from nomadic.state.entries import NodeRegister, encode_entry
from nomadic.state.fsm import FSM
from nomadic.telemetry import GaugeSet, Sink
from nomadic.testing.factories import mock_node


@pytest.fixture
def sink() -> Sink:
    return Sink()


async def _api(server: FakeServer, client: FakeClient, telemetry: Telemetry) -> TestClient:  # type: ignore[type-arg]
    app = build_app(server, client, {"name": "node1"}, telemetry)
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    return test_client


@pytest.fixture
async def metrics_api(
    server: FakeServer, client: FakeClient, sink: Sink
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    server.events = EventBroker()  # type: ignore[attr-defined]
    server.events.start(asyncio.get_running_loop())  # type: ignore[attr-defined]
    api = await _api(server, client, Telemetry(sink, prometheus_metrics=True))
    try:
        yield api
    finally:
        server.events.close()  # type: ignore[attr-defined]
        logs.broadcaster.close_all()
        await api.close()


async def test_metrics_json_and_prometheus(metrics_api: TestClient, sink: Sink) -> None:  # type: ignore[type-arg]
    gauges = GaugeSet()
    gauges.set("nomad.nomad.plan.queue_depth", 2)
    sink.replace_gauges("server", gauges)
    resp = await metrics_api.get("/v1/metrics")
    assert resp.status == 200
    body = await resp.json()
    assert {"Name": "nomad.nomad.plan.queue_depth", "Value": 2.0, "Labels": {}} in body["Gauges"]
    resp = await metrics_api.get("/v1/metrics?format=prometheus")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    assert "nomad_nomad_plan_queue_depth 2.0\n" in text
    resp = await metrics_api.get("/v1/metrics?format=xml")
    assert resp.status == 400


async def test_requests_are_timed_by_route(metrics_api: TestClient) -> None:  # type: ignore[type-arg]
    from nomadic.telemetry import default_sink

    await metrics_api.get("/v1/job/web")
    _, summaries = default_sink.cumulative()
    labels = (("method", "GET"), ("path", "/v1/job/{job_id}"))
    assert summaries[("nomad.http.request", labels)].count >= 1


async def test_prometheus_off_answers_415(
    server: FakeServer, client: FakeClient, sink: Sink
) -> None:
    api = await _api(server, client, Telemetry(sink, prometheus_metrics=False))
    try:
        resp = await api.get("/v1/metrics?format=prometheus")
        assert resp.status == 415
        assert "prometheus_metrics = true" in await resp.text()
        assert (await api.get("/v1/metrics")).status == 200
    finally:
        await api.close()


async def test_event_stream_replays_and_sends_heartbeats(
    metrics_api: TestClient,  # type: ignore[type-arg]
    server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_INTERVAL", 0.1)
    fsm = FSM()
    fsm.add_apply_listener(server.events.on_apply)  # type: ignore[attr-defined]
    node = mock_node()
    fsm.apply(3, encode_entry(NodeRegister(node=node), "r1"))
    resp = await metrics_api.get("/v1/event/stream?topic=Node&index=1")
    assert resp.status == 200
    first = json.loads(await resp.content.readline())
    assert first["Index"] == 3
    assert first["Events"][0]["Type"] == "NodeRegistration"
    assert first["Events"][0]["Key"] == node.id
    assert json.loads(await resp.content.readline()) == {}  # heartbeat while quiet
    resp.close()


async def test_monitor_streams_frames_at_the_requested_level(
    metrics_api: TestClient,  # type: ignore[type-arg]
) -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    root.handlers.append(logs.broadcaster)
    logs.broadcaster.agent_level = logging.WARNING
    root.setLevel(logging.WARNING)
    try:
        resp = await metrics_api.get("/v1/agent/monitor?log_level=debug&log_json=true")
        assert resp.status == 200
        assert root.level == logging.DEBUG  # lowered while a DEBUG monitor listens
        logging.getLogger("nomadic.test").debug("evaluation processed", extra={"eval_id": "e-1"})
        frame = json.loads(await resp.content.readline())
        record = json.loads(base64.b64decode(frame["Data"]).decode().splitlines()[0])
        assert record["@message"] == "evaluation processed"
        assert record["@level"] == "debug"
        assert record["eval_id"] == "e-1"
        resp.close()
        await asyncio.sleep(0)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


async def test_monitor_rejects_unknown_level(metrics_api: TestClient) -> None:  # type: ignore[type-arg]
    resp = await metrics_api.get("/v1/agent/monitor?log_level=loud")
    assert resp.status == 400
    assert "unknown log level 'loud'" in await resp.text()


def test_text_log_lines_append_ids() -> None:
    record = logging.LogRecord("nomadic.x", logging.INFO, __file__, 1, "placed", (), None)
    record.alloc_id = "a-1"
    record.node_id = "n-1"
    line = logs.TextFormatter().format(record)
    assert line.endswith("nomadic.x: placed: alloc_id=a-1 node_id=n-1")
