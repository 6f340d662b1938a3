"""Allocation, evaluation, node, status and agent endpoints, and how errors are answered."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from http_fakes import FakeClient, FakeServer, web_job

from nomadic.errors import NoLeaderError
from nomadic.http import build_app


async def placed(api: Any, server: FakeServer, count: int = 1) -> dict[str, Any]:
    server.add_node()
    resp = await api.put("/v1/jobs", json={"Job": web_job(count=count)})
    body: dict[str, Any] = await resp.json()
    return body


async def test_allocations_list_get_and_prefix(api: Any, server: FakeServer) -> None:
    await placed(api, server, count=2)
    stubs = await (await api.get("/v1/allocations")).json()
    assert len(stubs) == 2
    assert "Job" not in stubs[0]
    assert stubs[0]["JobID"] == "web"
    first = stubs[0]["ID"]
    by_prefix = await (await api.get(f"/v1/allocations?prefix={first[:8]}")).json()
    assert [a["ID"] for a in by_prefix] == [first]
    full = await (await api.get(f"/v1/allocation/{first}")).json()
    assert full["Job"]["ID"] == "web"
    assert full["TaskStates"]["server"]["State"] == "running"
    resp = await api.get("/v1/allocation/nope")
    assert (resp.status, await resp.text()) == (404, "alloc not found\n")


async def test_alloc_stop_creates_an_eval(api: Any, server: FakeServer) -> None:
    await placed(api, server)
    alloc_id = (await (await api.get("/v1/allocations")).json())[0]["ID"]
    body = await (await api.post(f"/v1/allocation/{alloc_id}/stop")).json()
    assert set(body) >= {"EvalID", "Index"}
    ev = await (await api.get(f"/v1/evaluation/{body['EvalID']}")).json()
    assert ev["TriggeredBy"] == "alloc-stop"


async def test_evaluations(api: Any, server: FakeServer) -> None:
    reg = await placed(api, server)
    evals = await (await api.get("/v1/evaluations")).json()
    assert [e["ID"] for e in evals] == [reg["EvalID"]]
    ev = await (await api.get(f"/v1/evaluation/{reg['EvalID']}")).json()
    assert ev["Status"] == "complete"
    assert "FailedTGAllocs" in ev
    allocs = await (await api.get(f"/v1/evaluation/{reg['EvalID']}/allocations")).json()
    assert len(allocs) == 1
    assert (await api.get("/v1/evaluation/nope")).status == 404


async def test_nodes_hide_the_secret_id(api: Any, server: FakeServer) -> None:
    node = server.add_node("alpha")
    await placed(api, server)
    stubs = await (await api.get(f"/v1/nodes?prefix={node.id[:4]}")).json()
    assert [n["Name"] for n in stubs] == ["alpha"]
    assert stubs[0]["Drivers"]["raw_exec"]["Healthy"] is True
    full = await (await api.get(f"/v1/node/{node.id}")).json()
    assert full["SecretID"] == ""
    assert full["NodeResources"]["Cpu"]["CpuShares"] == 0
    allocs = await (await api.get(f"/v1/node/{node.id}/allocations")).json()
    assert len(allocs) == 1
    assert (await api.get("/v1/node/nope")).status == 404


async def test_status_and_regions(api: Any, server: FakeServer) -> None:
    assert await (await api.get("/v1/status/leader")).json() == "127.0.0.1:4647"
    assert await (await api.get("/v1/status/peers")).json() == ["127.0.0.1:4647"]
    assert await (await api.get("/v1/regions")).json() == ["global"]
    server.leader = ""
    resp = await api.get("/v1/status/leader")
    assert (resp.status, await resp.text()) == (500, "No cluster leader\n")


async def test_agent_self_members_health(api: Any) -> None:
    me = await (await api.get("/v1/agent/self")).json()
    assert me["config"]["Region"] == "global"
    assert me["config"]["Server"] == {"Enabled": True}
    assert me["config"]["DataDir"] == "/tmp/x"
    assert me["config"]["Ports"] == {"HTTP": 4646, "RPC": 4647}
    assert me["member"]["Name"] == "node1.global"
    assert me["stats"]["raft"]["commit_index"] == "7"
    members = await (await api.get("/v1/agent/members")).json()
    assert members["ServerRegion"] == "global"
    assert members["ServerDC"] == "dc1"
    assert members["Members"][0]["Tags"]["leader"] == "true"
    health = await (await api.get("/v1/agent/health")).json()
    assert health == {
        "client": {"ok": True, "message": "ok"},
        "server": {"ok": True, "message": "ok"},
    }


async def test_client_stats(api: Any, client: FakeClient) -> None:
    client.make_alloc_dir("a1")
    assert (await (await api.get("/v1/client/allocation/a1/stats")).json())["Tasks"] == {}
    assert (await api.get("/v1/client/allocation/zz/stats")).status == 404
    assert (await (await api.get("/v1/client/stats")).json())["Uptime"] == 10


async def test_missing_roles_answer_501() -> None:
    app = build_app(None, None, {})
    async with TestClient(TestServer(app)) as api:
        resp = await api.get("/v1/jobs")
        assert resp.status == 501
        assert "not running a server" in await resp.text()
        resp = await api.get("/v1/client/stats")
        assert "not running a client" in await resp.text()


async def test_no_leader_write_is_500_no_cluster_leader(api: Any, server: FakeServer) -> None:
    async def refuse(*args: Any, **kw: Any) -> Any:
        raise NoLeaderError()

    server.job_register = refuse  # type: ignore[method-assign]
    resp = await api.put("/v1/jobs", json={"Job": web_job()})
    assert (resp.status, await resp.text()) == (500, "No cluster leader\n")


async def test_unexpected_error_is_500_with_request_id_and_logged(
    api: Any, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("kaboom")

    server.peers = boom  # type: ignore[assignment,method-assign]
    with caplog.at_level(logging.ERROR, logger="nomadic.http"):
        resp = await api.get("/v1/status/peers")
    text = await resp.text()
    assert resp.status == 500
    assert text.startswith("internal error (request ")
    assert "kaboom" not in text and "Traceback" not in text
    request_id = text.split("request ")[1][:8]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)
