"""WAN gossip between real gRPC listeners on loopback: join, spread, failure, cross-region
calls (rounds are driven by hand, the clock is fake)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from nomadic.errors import RegionUnavailableError
from nomadic.rpc import RPCPool, RPCServer
from nomadic.rpc.gossip import GossipConfig
from nomadic.rpc.wire import Empty, MemberInfo
from nomadic.testing.agent_process import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Clock, dict[str, RPCServer]]]:
    clock = Clock()
    found: dict[str, RPCServer] = {}
    for name in ("a.eu", "b.us", "c.us"):
        port = free_port()
        member = MemberInfo(
            name=name,
            region=name.split(".")[1],
            rpc_addr=f"127.0.0.1:{port}",
            raft_addr=f"127.0.0.1:{free_port()}",
            http_addr=f"127.0.0.1:{free_port()}",
        )
        rpc = RPCServer("127.0.0.1", port, member, RPCPool(), GossipConfig(failure_timeout=5))
        rpc.gossip.clock = clock
        rpc.gossip.rng = random.Random(7)
        await rpc.start()
        found[name] = rpc
    try:
        yield clock, found
    finally:
        for rpc in found.values():
            await rpc.gossip.stop(leave=False)
            await rpc.stop()
            await rpc.pool.close()


async def test_join_spreads_every_server_to_every_region(
    servers: tuple[Clock, dict[str, RPCServer]],
) -> None:
    _, s = servers
    a, b, c = s["a.eu"], s["b.us"], s["c.us"]
    assert await a.gossip.join([b.member.rpc_addr]) == (1, "")
    assert await c.gossip.join([b.member.rpc_addr]) == (1, "")
    for _ in range(6):
        for rpc in s.values():
            await rpc.gossip.round()
    for rpc in s.values():
        assert [v.member.name for v in rpc.gossip.views()] == ["a.eu", "b.us", "c.us"]
        assert rpc.gossip.regions() == ["eu", "us"]
    # same-region servers learn each other's Raft -> RPC address, other regions do not
    assert b.rpc_by_raft[c.member.raft_addr] == c.member.rpc_addr
    assert a.member.raft_addr not in b.rpc_by_raft


async def test_region_call_reaches_that_region_and_a_dead_region_fails_fast(
    servers: tuple[Clock, dict[str, RPCServer]],
) -> None:
    clock, s = servers
    a, b, c = s["a.eu"], s["b.us"], s["c.us"]
    await a.gossip.join([b.member.rpc_addr, c.member.rpc_addr])
    got = await a.region_rpc("us", "Status.Member", Empty(), MemberInfo)
    assert got.region == "us"

    with pytest.raises(RegionUnavailableError, match='No path to region "ap": no server of'):
        await a.region_rpc("ap", "Status.Member", Empty(), MemberInfo)
    # any gRPC request carrying another region is forwarded there by the server it reaches
    via_a = await a.pool.call(a.member.rpc_addr, "Status.Member", Empty(), MemberInfo, region="us")
    assert via_a.region == "us"
    with pytest.raises(RegionUnavailableError, match='No path to region "ap"'):
        await a.pool.call(a.member.rpc_addr, "Status.Member", Empty(), MemberInfo, region="ap")

    # us goes away: before failure detection a call tries each server and fails at once ...
    for rpc in (b, c):
        await rpc.stop()
    with pytest.raises(RegionUnavailableError, match='No path to region "us"'):
        await a.region_rpc("us", "Status.Member", Empty(), MemberInfo, timeout=2.0)
    # ... and once their counters stop past the failure timeout, no server is tried
    clock.now += 6
    with pytest.raises(RegionUnavailableError, match=r"no live server known \(last seen 6s ago\)"):
        await a.region_rpc("us", "Status.Member", Empty(), MemberInfo)
    statuses = {v.member.name: v.status for v in a.gossip.views()}
    assert statuses == {"a.eu": "alive", "b.us": "failed", "c.us": "failed"}


async def test_graceful_leave_is_seen_as_left(
    servers: tuple[Clock, dict[str, RPCServer]],
) -> None:
    _, s = servers
    a, b = s["a.eu"], s["b.us"]
    await a.gossip.join([b.member.rpc_addr])
    await b.gossip.stop(leave=True)
    assert {v.member.name: v.status for v in a.gossip.views()}["b.us"] == "left"


async def test_retry_join_keeps_dialling_until_the_server_answers(
    servers: tuple[Clock, dict[str, RPCServer]],
) -> None:
    _, s = servers
    a = s["a.eu"]
    late_port = free_port()
    a.gossip.add_join(f"127.0.0.1:{late_port}")
    await a.gossip.round()  # nobody there yet
    member = MemberInfo(name="d.ap", region="ap", rpc_addr=f"127.0.0.1:{late_port}")
    late = RPCServer("127.0.0.1", late_port, member, RPCPool())
    await late.start()
    try:
        # gRPC may hold the refused channel in its reconnect backoff for a second or two
        deadline = asyncio.get_running_loop().time() + 10
        while "ap" not in a.gossip.regions():
            assert asyncio.get_running_loop().time() < deadline, "never joined d.ap"
            await a.gossip.round()
            await asyncio.sleep(0.1)
        assert [v.member.name for v in late.gossip.views()] == ["a.eu", "d.ap"]
    finally:
        await late.stop()
        await late.pool.close()
