"""The Server with the real scheduler: a job and a node become running allocations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from server_fakes import server_config

from nomadic.server import LocalServerRPC, Server
from nomadic.testing.factories import mock_batch_job, mock_job, mock_node


@pytest.fixture
async def real() -> AsyncIterator[Server]:
    srv = Server(server_config())  # the default factory: nomadic.scheduler.new_scheduler
    await srv.start()
    await srv.wait_for_leader()
    yield srv
    await srv.shutdown()


async def until_allocs(server: Server, job_id: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while True:
        live = [a for a in server.snapshot().allocs_by_job("default", job_id) if not a.terminal()]
        if len(live) == count:
            return
        assert time.monotonic() < deadline, f"{len(live)} of {count} allocations placed"
        await asyncio.sleep(0.02)


async def test_service_job_is_placed_on_registered_nodes(real: Server) -> None:
    rpc = LocalServerRPC(real)
    await rpc.node_register(mock_node(id="node-a"))
    await rpc.node_register(mock_node(id="node-b"))
    resp = await real.job_register(mock_job(id="web", task_groups=mock_job().task_groups))
    await until_allocs(real, "web", 10)
    deadline = time.monotonic() + 10
    while (ev := real.snapshot().eval_by_id(resp.eval_id)) is None or ev.status != "complete":
        assert time.monotonic() < deadline, "eval not completed"
        await asyncio.sleep(0.02)
    snap = real.snapshot()
    assert {a.node_id for a in snap.allocs_by_job("default", "web")} <= {"node-a", "node-b"}
    ev = snap.eval_by_id(resp.eval_id)
    assert ev is not None and ev.status == "complete"
    summary = snap.job_summary("default", "web")
    assert summary is not None and summary.summary["web"].starting == 10


async def test_batch_job_without_capacity_waits_for_a_node(real: Server) -> None:
    await real.job_register(mock_batch_job(id="report"))
    deadline = time.monotonic() + 10
    while not any(e.status == "blocked" for e in real.snapshot().evals()):
        assert time.monotonic() < deadline, "no blocked eval"
        await asyncio.sleep(0.02)
    await LocalServerRPC(real).node_register(mock_node(id="late"))
    await until_allocs(real, "report", 10)
