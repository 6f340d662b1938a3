"""``PUT /v1/job/:id/plan``: Nomad's JobPlanResponse shape, no state change, bad input."""

from __future__ import annotations

from typing import Any

from http_fakes import FakeServer, web_job

from nomadic.testing.factories import mock_node


async def test_plan_answers_nomads_shape_and_writes_nothing(api: Any, server: FakeServer) -> None:
    server.write(lambda i: server.store.upsert_node(i, mock_node(datacenter="dc1")))
    before = server.store.latest_index()
    resp = await api.put("/v1/job/web/plan", json={"Job": web_job(count=2), "Diff": True})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert {
        "JobModifyIndex",
        "CreatedEvals",
        "Diff",
        "Annotations",
        "FailedTGAllocs",
        "NextPeriodicLaunch",
        "Warnings",
    } <= body.keys()
    assert body["JobModifyIndex"] == 0
    assert body["Annotations"]["DesiredTGUpdates"]["web"]["Place"] == 2
    assert body["Diff"]["Type"] == "Added" and body["Diff"]["ID"] == "web"
    group = body["Diff"]["TaskGroups"][0]
    assert (group["Type"], group["Name"], group["Updates"]) == ("Added", "web", {"create": 2})
    assert group["Tasks"][0]["Annotations"] == ["forces create"]
    assert body["FailedTGAllocs"] is None
    assert server.store.latest_index() == before and server.store.snapshot().jobs() == []


async def test_plan_without_diff_and_with_failures(api: Any) -> None:
    resp = await api.put("/v1/job/web/plan", json={"Job": web_job()})
    body = await resp.json()
    assert body["Diff"] is None
    failed = body["FailedTGAllocs"]["web"]
    assert failed["NodesEvaluated"] == 0 and failed["CoalescedFailures"] == 0


async def test_plan_rejects_a_mismatched_id_and_an_invalid_job(api: Any) -> None:
    resp = await api.put("/v1/job/other/plan", json={"Job": web_job()})
    assert resp.status == 400
    assert "does not match" in await resp.text()
    bad = web_job()
    bad["TaskGroups"][0]["Count"] = -1
    resp = await api.put("/v1/job/web/plan", json={"Job": bad})
    assert resp.status == 400
