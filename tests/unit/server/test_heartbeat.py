"""Heartbeat TTLs scale with the cluster; a missed heartbeat expires the node."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from nomadic.server.heartbeat import HeartbeatConfig, Heartbeater, rate_scaled_interval


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [(0, 10.0), (500, 10.0), (1000, 20.0), (10_000, 200.0)],
    ids=["empty", "500-nodes", "1000-nodes", "10k-nodes"],
)
def test_rate_scaled_interval(nodes: int, expected: float) -> None:
    assert rate_scaled_interval(50, 10.0, nodes) == expected


async def test_ttl_is_staggered_between_ttl_and_twice_ttl() -> None:
    async def expired(node_id: str) -> None:
        pass

    hb = Heartbeater(HeartbeatConfig(), expired, rng=random.Random(1))
    ttls = [hb.reset(f"n{i}") for i in range(20)]
    assert all(10.0 <= t < 20.0 for t in ttls)
    assert len(set(ttls)) > 1
    hb.clear_all()


async def test_missed_heartbeat_expires_after_ttl_plus_grace() -> None:
    expired: list[str] = []

    async def on_expired(node_id: str) -> None:
        expired.append(node_id)

    cfg = HeartbeatConfig(min_heartbeat_ttl=0.02, heartbeat_grace=0.02)
    hb = Heartbeater(cfg, on_expired)
    hb.reset("n1")
    hb.reset("n2")
    hb.clear("n2")
    deadline = time.monotonic() + 5
    while not expired:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert expired == ["n1"]
    assert hb.tracked() == []


async def test_failover_ttl_after_leader_change() -> None:
    async def on_expired(node_id: str) -> None:
        raise AssertionError("must not expire")

    hb = Heartbeater(HeartbeatConfig(), on_expired)
    hb.initialize(["n1", "n2"])
    assert hb.tracked() == ["n1", "n2"]
    hb.clear_all()
