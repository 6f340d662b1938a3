"""Namespaces (/v1/namespaces, /v1/namespace/:name) and node pools (/v1/node/pools,
/v1/node/pool/:name[/nodes|/jobs]) over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from http_fakes import FakeServer, web_job


async def test_namespace_crud(api: Any) -> None:
    listed = await (await api.get("/v1/namespaces")).json()
    assert [ns["Name"] for ns in listed] == ["default"]
    body = {"Description": "dev jobs", "Meta": {"team": "web"}}
    resp = await api.put("/v1/namespace/dev", json=body)
    assert resp.status == 200
    written = (await resp.json())["Index"]
    ns = await (await api.get("/v1/namespace/dev")).json()
    assert (ns["Name"], ns["Description"], ns["Meta"], ns["Quota"]) == (
        "dev",
        "dev jobs",
        {"team": "web"},
        "",
    )
    assert ns["CreateIndex"] == ns["ModifyIndex"] == written
    # the body's Name on /v1/namespace
    resp = await api.post("/v1/namespace", json={"Name": "qa"})
    assert resp.status == 200
    names = [n["Name"] for n in await (await api.get("/v1/namespaces")).json()]
    assert names == ["default", "dev", "qa"]
    assert [n["Name"] for n in await (await api.get("/v1/namespaces?prefix=d")).json()] == [
        "default",
        "dev",
    ]
    resp = await api.delete("/v1/namespace/qa")
    assert resp.status == 200
    resp = await api.get("/v1/namespace/qa")
    assert (resp.status, await resp.text()) == (404, "namespace not found\n")


async def test_namespace_write_errors(api: Any) -> None:
    resp = await api.put("/v1/namespace/bad_name", json={})
    assert resp.status == 400
    assert 'invalid namespace "bad_name": invalid name' in await resp.text()
    resp = await api.put("/v1/namespace/a", json={"Name": "b"})
    assert (resp.status, await resp.text()) == (
        400,
        "Namespace name 'b' in the body does not match 'a' in the path\n",
    )
    resp = await api.delete("/v1/namespace/default")
    assert (resp.status, await resp.text()) == (400, "default namespace can not be deleted\n")
    resp = await api.delete("/v1/namespace/nope")
    assert resp.status == 404


async def test_namespace_with_live_jobs_cannot_be_deleted(api: Any, server: FakeServer) -> None:
    await api.put("/v1/namespace/dev", json={})
    job = {**web_job(), "Namespace": "dev"}
    assert (await api.put("/v1/jobs", json={"Job": job})).status == 200
    resp = await api.delete("/v1/namespace/dev")
    assert resp.status == 400
    assert 'namespace "dev" has non-terminal jobs in regions: [global]' in await resp.text()


async def test_namespace_list_blocks_until_a_change(api: Any, server: FakeServer) -> None:
    await api.put("/v1/namespace/early", json={})
    server.add_node()  # a write to another table does not answer the query
    first = await api.get("/v1/namespaces")
    index = int(first.headers["X-Nomad-Index"])
    waiting = asyncio.ensure_future(api.get(f"/v1/namespaces?index={index}&wait=5s"))
    await server.wait_for_index(0, 0.01)
    server.add_node("node2")
    await api.put("/v1/namespace/late", json={})
    resp = await waiting
    assert [n["Name"] for n in await resp.json()] == ["default", "early", "late"]
    assert int(resp.headers["X-Nomad-Index"]) > index


async def test_node_pool_crud(api: Any, server: FakeServer) -> None:
    pools = await (await api.get("/v1/node/pools")).json()
    assert [(p["Name"], p["Description"]) for p in pools] == [
        ("all", "Node pool with all nodes in the cluster."),
        ("default", "Default node pool."),
    ]
    body = {"Name": "gpu", "Description": "GPUs", "Meta": {"k": "v"}}
    assert (await api.put("/v1/node/pools", json=body)).status == 200
    sched = {"SchedulerConfiguration": {"SchedulerAlgorithm": "spread"}}
    assert (await api.put("/v1/node/pool/batch", json=sched)).status == 200
    gpu = await (await api.get("/v1/node/pool/gpu")).json()
    assert (gpu["Description"], gpu["Meta"], gpu["SchedulerConfiguration"]) == (
        "GPUs",
        {"k": "v"},
        None,
    )
    batch = await (await api.get("/v1/node/pool/batch")).json()
    assert batch["SchedulerConfiguration"]["SchedulerAlgorithm"] == "spread"
    server.add_node("g1", node_pool="gpu")
    server.add_node("d1")
    nodes = await (await api.get("/v1/node/pool/gpu/nodes")).json()
    assert [n["Name"] for n in nodes] == ["g1"]
    everyone = await (await api.get("/v1/node/pool/all/nodes")).json()
    assert sorted(n["Name"] for n in everyone) == ["d1", "g1"]
    assert (await api.put("/v1/jobs", json={"Job": {**web_job(), "NodePool": "gpu"}})).status == 200
    jobs = await (await api.get("/v1/node/pool/gpu/jobs")).json()
    assert [j["ID"] for j in jobs] == ["web"]
    assert await (await api.get("/v1/node/pool/batch/jobs")).json() == []
    assert (await api.delete("/v1/node/pool/batch")).status == 200
    assert (await api.get("/v1/node/pool/batch")).status == 404


async def test_node_pool_write_errors(api: Any, server: FakeServer) -> None:
    resp = await api.put("/v1/node/pool/all", json={"Description": "x"})
    assert (resp.status, await resp.text()) == (
        400,
        'modifying node pool "all" is not allowed: it is built in\n',
    )
    resp = await api.delete("/v1/node/pool/default")
    assert (resp.status, await resp.text()) == (
        400,
        'deleting node pool "default" is not allowed: it is built in\n',
    )
    resp = await api.put(
        "/v1/node/pool/x", json={"SchedulerConfiguration": {"SchedulerAlgorithm": "z"}}
    )
    assert "invalid scheduler algorithm 'z'" in await resp.text()
    await api.put("/v1/node/pool/gpu", json={})
    server.add_node("g1", node_pool="gpu")
    resp = await api.delete("/v1/node/pool/gpu")
    assert resp.status == 400
    assert 'node pool "gpu" has nodes in regions: [global]' in await resp.text()
    resp = await api.get("/v1/node/pool/nope/nodes")
    assert (resp.status, await resp.text()) == (404, "node pool not found\n")
