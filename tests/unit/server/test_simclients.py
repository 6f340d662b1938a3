"""Simulated clients against a real in-process server: registered, placed on, acknowledged."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from server_fakes import server_config

from nomadic.server import LocalServerRPC, Server
from nomadic.server.heartbeat import HeartbeatConfig
from nomadic.structs import AllocUpdate, Resources
from nomadic.testing.factories import mock_job
from nomadic.testing.simclients import SimClients


@pytest.fixture
async def real_server() -> AsyncIterator[Server]:
    srv = Server(server_config())  # the real schedulers
    await srv.start()
    await srv.wait_for_leader()
    yield srv
    await srv.shutdown()


async def until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_sim_clients_register_and_ack_placements_as_running(real_server: Server) -> None:
    sim = SimClients(real_server.local_rpc(), 20, ack_interval=0.05)
    await sim.start()
    try:
        nodes = real_server.snapshot().nodes()
        assert len(nodes) == 20 and {n.status for n in nodes} == {"ready"}
        job = mock_job(id="sim")
        tg = job.task_groups[0]
        tg.count, tg.networks = 30, []
        tg.tasks[0].driver, tg.tasks[0].config = "mock", {"run_for": "1h"}
        tg.tasks[0].resources = Resources(cpu=100, memory_mb=64)
        await real_server.job_register(job)
        await until(lambda: sim.acked == 30)
        allocs = real_server.snapshot().allocs_by_job("default", "sim")
        assert len(allocs) == 30
        assert {a.client_status for a in allocs} == {"running"}
        assert all(a.task_states["web"].state == "running" for a in allocs)
    finally:
        await sim.stop()


async def test_own_status_report_does_not_wake_the_alloc_watch(real_server: Server) -> None:
    rpc = LocalServerRPC(real_server)
    sim = SimClients(rpc, 1)
    node = sim.nodes[0].node
    await rpc.node_register(node)
    job = mock_job(id="w")
    job.task_groups[0].count, job.task_groups[0].networks = 1, []
    job.task_groups[0].tasks[0].driver = "mock"
    await real_server.job_register(job)
    await until(lambda: bool(real_server.snapshot().allocs_by_node(node.id)))
    allocs, index = await rpc.node_get_client_allocs(node.id, 0, 1.0)
    waiting = asyncio.ensure_future(rpc.node_get_client_allocs(node.id, index, 0.5))
    await rpc.node_update_alloc([AllocUpdate(id=allocs[0].id, client_status="running")])
    again, same = await waiting  # returns at its timeout: nothing the client did not know
    assert same == index and again[0].client_status == "running"


async def test_every_sim_node_heartbeats_within_its_own_ttl(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # TTLs of 1-2 s (min TTL plus stagger) and half a second of grace: each node must beat
    # on its own TTL. One shared period (the longest TTL seen) let the first-registered
    # nodes, whose TTLs are the shortest, expire under load: at 5,000 nodes in the C1M
    # benchmark a quarter of them were marked down and their allocations replaced.
    caplog.set_level(logging.WARNING, logger="nomadic.server.heartbeat")
    hb = HeartbeatConfig(min_heartbeat_ttl=1.0, heartbeat_grace=0.5)
    srv = Server(server_config(heartbeat=hb))
    await srv.start()
    await srv.wait_for_leader()
    sim = SimClients(srv.local_rpc(), 12)
    try:
        await sim.start()
        await until(lambda: all(n.beats >= 4 for n in sim.nodes))  # >= 2 TTLs each
        assert [r.getMessage() for r in caplog.records if "missed" in r.getMessage()] == []
        assert {n.status for n in srv.snapshot().nodes()} == {"ready"}
    finally:
        await sim.stop()
        await srv.shutdown()
