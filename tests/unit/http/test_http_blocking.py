"""Blocking queries: ``?index=N&wait=`` returns when the watched table moves, or on timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from http_fakes import FakeServer, web_job


async def test_blocking_query_wakes_when_the_index_moves(api: Any, server: FakeServer) -> None:
    first = await api.get("/v1/jobs")
    index = int(first.headers["X-Nomad-Index"])
    waiter = asyncio.create_task(api.get(f"/v1/jobs?index={index}&wait=10s"))
    deadline = time.monotonic() + 5
    while server._loop is None:  # the handler is now waiting on the server
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert not waiter.done()
    await api.put("/v1/jobs", json={"Job": web_job()})
    resp = await asyncio.wait_for(waiter, 5)
    assert int(resp.headers["X-Nomad-Index"]) > index
    assert [j["ID"] for j in await resp.json()] == ["web"]


async def test_blocking_query_times_out_with_the_same_index(api: Any, server: FakeServer) -> None:
    await api.put("/v1/jobs", json={"Job": web_job()})
    index = int((await api.get("/v1/jobs")).headers["X-Nomad-Index"])
    start = time.monotonic()
    resp = await api.get(f"/v1/jobs?index={index}&wait=200ms")
    elapsed = time.monotonic() - start
    assert resp.status == 200
    assert resp.headers["X-Nomad-Index"] == str(index)
    assert 0.2 <= elapsed < 2


async def test_blocking_query_ignores_other_tables(api: Any, server: FakeServer) -> None:
    await api.put("/v1/jobs", json={"Job": web_job()})
    index = int((await api.get("/v1/nodes")).headers["X-Nomad-Index"])
    waiter = asyncio.create_task(api.get(f"/v1/nodes?index={index}&wait=10s"))
    deadline = time.monotonic() + 5
    while server._loop is None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await api.put("/v1/jobs", json={"Job": web_job("other")})  # jobs move, nodes do not
    await asyncio.sleep(0)
    assert not waiter.done()
    server.add_node()
    resp = await asyncio.wait_for(waiter, 5)
    assert len(await resp.json()) == 1


async def test_index_before_current_answers_at_once(api: Any) -> None:
    await api.put("/v1/jobs", json={"Job": web_job()})
    start = time.monotonic()
    resp = await api.get("/v1/jobs?index=1&wait=30s")
    assert time.monotonic() - start < 2
    assert resp.status == 200


async def test_bad_wait_and_index_are_400(api: Any) -> None:
    resp = await api.get("/v1/jobs?index=1&wait=soon")
    assert resp.status == 400
    assert "invalid duration 'soon'" in await resp.text()
    resp = await api.get("/v1/jobs?index=x")
    assert resp.status == 400
