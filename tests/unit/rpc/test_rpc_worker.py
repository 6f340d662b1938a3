"""A follower's scheduler worker against a real leader over gRPC: Eval.Dequeue/Ack/Nack,
Eval.Update and Plan.Submit, the token checks that drop a stale worker's writes, and a
worker that pauses while the leader is unreachable and resumes when it answers again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import msgspec
import pytest
from rpc_servers import served_server

from nomadic.errors import NotFoundError
from nomadic.rpc import RPCPool
from nomadic.rpc.worker_client import RemoteSchedulingLeader
from nomadic.server import LocalServerRPC, Server
from nomadic.server.worker import SchedulingLeader, Worker, default_scheduler_factory
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Plan
from nomadic.testing.agent_process import free_port
from nomadic.testing.factories import mock_job, mock_node


@pytest.fixture
async def leader() -> AsyncIterator[Server]:
    """A one-server cluster whose own server runs no scheduler worker."""
    async with served_server(num_schedulers=0) as (_, server):
        yield server


class FollowerHost:
    """What a follower's worker sees: the leader over gRPC, state replicated locally (here the
    leader's own store stands in for the follower's replica)."""

    def __init__(self, leader: Server, pool: RPCPool, addr: str) -> None:
        self._leader = leader
        self.remote: SchedulingLeader | None = RemoteSchedulingLeader(pool, addr)

    @property
    def name(self) -> str:
        return "follower.global"

    def scheduling_leader(self) -> SchedulingLeader | None:
        return self.remote

    def snapshot(self) -> Snapshot:
        return self._leader.snapshot()

    async def wait_for_index(self, min_index: int, timeout: float) -> int:
        return await self._leader.wait_for_index(min_index, timeout)


async def until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_a_remote_worker_places_a_job(leader: Server) -> None:
    assert leader.workers == []
    pool = RPCPool()
    host = FollowerHost(leader, pool, leader.config.rpc_advertise)
    worker = Worker(host, default_scheduler_factory, ["service", "batch"])
    task = asyncio.ensure_future(worker.run())
    try:
        await LocalServerRPC(leader).node_register(mock_node(id="node-a"))
        await LocalServerRPC(leader).node_register(mock_node(id="node-b"))
        resp = await leader.job_register(mock_job(id="web"))

        def complete() -> bool:
            ev = leader.snapshot().eval_by_id(resp.eval_id)
            return ev is not None and ev.status == "complete"

        await until(complete)
        live = [a for a in leader.snapshot().allocs_by_job("default", "web") if not a.terminal()]
        assert len(live) == 10 and {a.node_id for a in live} == {"node-a", "node-b"}
        # the eval is complete before the worker acks it: wait for the ack to be counted
        await until(lambda: worker.processed == 1)
        assert leader.broker_stats()["TotalUnacked"] == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.close()


async def test_stale_tokens_are_refused_and_nacked_evals_redelivered(leader: Server) -> None:
    pool = RPCPool()
    remote = RemoteSchedulingLeader(pool, leader.config.rpc_advertise)
    try:
        job = mock_job(id="web")
        resp = await leader.job_register(job)
        got = await remote.dequeue(["service"], 5.0)
        assert got is not None
        ev, token, wait_index = got
        assert ev.id == resp.eval_id and wait_index == ev.modify_index
        plan = Plan(eval_id=ev.id, eval_token="not-the-token", job=job)
        with pytest.raises(NotFoundError, match="no longer held by this worker"):
            await remote.submit_plan(plan)
        done = msgspec.structs.replace(ev, status="complete")
        with pytest.raises(NotFoundError, match="no longer held by this worker"):
            await remote.update_evals(ev.id, "not-the-token", [done])
        with pytest.raises(NotFoundError, match="token does not match"):
            await remote.ack(ev.id, "not-the-token")
        await remote.nack(ev.id, token)
        again = await remote.dequeue(["service"], 5.0)  # first nack: redelivered at once
        assert again is not None and again[0].id == ev.id and again[1] != token
        assert await remote.update_evals(ev.id, again[1], [done]) > 0
        await remote.ack(ev.id, again[1])
        assert await remote.dequeue(["service"], 0.1) is None
    finally:
        await pool.close()


async def test_worker_pauses_while_the_leader_is_unreachable(
    leader: Server, caplog: pytest.LogCaptureFixture
) -> None:
    pool = RPCPool()
    host = FollowerHost(leader, pool, f"127.0.0.1:{free_port()}")  # nobody listens there
    worker = Worker(host, default_scheduler_factory, ["service"], worker_id=7)
    task = asyncio.ensure_future(worker.run())
    try:
        with caplog.at_level(logging.INFO, "nomadic.server.worker"):
            await until(lambda: "worker 7 paused: dequeue failed" in caplog.text)
            host.remote = None  # no known leader: still paused, no busy loop
            await asyncio.sleep(0.1)
            host.remote = RemoteSchedulingLeader(pool, leader.config.rpc_advertise)
            await LocalServerRPC(leader).node_register(mock_node(id="node-a"))
            resp = await leader.job_register(mock_job(id="web"))

            def complete() -> bool:
                ev = leader.snapshot().eval_by_id(resp.eval_id)
                return ev is not None and ev.status == "complete"

            await until(complete)
            assert "worker 7 resumed" in caplog.text
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.close()
