"""Heartbeat timers: the leader's detection of clients that stopped reporting.

Nomad's ``nomad/heartbeat.go``: one timer per node. The TTL handed to a client scales with
the cluster so the servers see about ``max_heartbeats_per_second`` heartbeats in total:
``max(min_heartbeat_ttl, nodes / max_heartbeats_per_second)`` plus a random stagger in
``[0, TTL)``; the timer fires ``heartbeat_grace`` later. A fired timer marks the node down
(which creates node-update evaluations for its jobs). After a leader change every node gets
``failover_heartbeat_ttl`` so clients have time to find the new leader.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["HeartbeatConfig", "Heartbeater", "rate_scaled_interval"]

log = logging.getLogger(__name__)

NodeExpired = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class HeartbeatConfig:
    min_heartbeat_ttl: float = 10.0
    max_heartbeats_per_second: float = 50.0
    heartbeat_grace: float = 10.0
    failover_heartbeat_ttl: float = 300.0


def rate_scaled_interval(rate: float, minimum: float, n: int) -> float:
    """Seconds between events so that ``n`` sources together stay at ``rate`` per second."""
    if rate <= 0:
        return minimum
    return max(minimum, n / rate)


class Heartbeater:
    """Owns the per-node timers; lives on the leader's event loop."""

    def __init__(
        self, config: HeartbeatConfig, on_expired: NodeExpired, rng: random.Random | None = None
    ) -> None:
        self.config = config
        self._on_expired = on_expired
        self._rng = rng or random.Random()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def next_ttl(self) -> float:
        """The TTL to give a client now: rate-scaled, plus a random stagger in [0, TTL)."""
        cfg = self.config
        ttl = rate_scaled_interval(
            cfg.max_heartbeats_per_second, cfg.min_heartbeat_ttl, len(self._timers)
        )
        return ttl + self._rng.random() * ttl

    def reset(self, node_id: str) -> float:
        """A heartbeat arrived: restart the node's timer; returns the TTL to hand back."""
        ttl = self.next_ttl()
        self._arm(node_id, ttl + self.config.heartbeat_grace)
        return ttl

    def initialize(self, node_ids: list[str]) -> None:
        """On gaining leadership: every live node gets the failover TTL."""
        for node_id in node_ids:
            self._arm(node_id, self.config.failover_heartbeat_ttl + self.config.heartbeat_grace)

    def clear(self, node_id: str) -> None:
        timer = self._timers.pop(node_id, None)
        if timer is not None:
            timer.cancel()

    def clear_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()

    def tracked(self) -> list[str]:
        return sorted(self._timers)

    def _arm(self, node_id: str, delay: float) -> None:
        self.clear(node_id)
        loop = asyncio.get_running_loop()
        self._timers[node_id] = loop.call_later(delay, self._expire, node_id)

    def _expire(self, node_id: str) -> None:
        self._timers.pop(node_id, None)
        log.warning(
            "node %s missed its heartbeat; marking it down", node_id, extra={"node_id": node_id}
        )
        task = asyncio.ensure_future(self._run_expired(node_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_expired(self, node_id: str) -> None:
        try:
            await self._on_expired(node_id)
        except Exception:  # supervisor: log and let the next leader retry
            log.exception("marking node %s down failed", node_id, extra={"node_id": node_id})
