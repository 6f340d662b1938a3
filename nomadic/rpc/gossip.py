"""WAN gossip over gRPC, and calls to the servers of another region.

    every ``interval``:  tick own record (incarnation + 1, leader flag)
                         push-pull ``Status.Gossip`` with one random live server (any region;
                         now and then a failed one, so a healed partition rejoins)
                         dial every join address not reached yet (``retry_join``, ``server join``)
                         reap members failed or left for ``reap_timeout``

The table itself is :class:`nomadic.rpc.membership.MemberTable` (pure). Same-region servers
learnt here only feed the Raft address -> RPC address map (leader forwarding); the Raft
configuration is never changed by gossip: only ``bootstrap_expect`` joins form a quorum.

:meth:`Gossip.region_call` is the narrow door for cross-region calls: a gRPC method on a live
server of the region (which forwards to its leader as any server does), chosen at random,
trying the next on a connection failure; :class:`RegionUnavailableError` when none answers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from nomadic.errors import NomadicError, RegionUnavailableError
from nomadic.telemetry import default_sink

from .client import RPCPool, RPCUnavailableError
from .membership import (
    DEFAULT_FAILURE_TIMEOUT,
    DEFAULT_REAP_TIMEOUT,
    STATUS_FAILED,
    MemberTable,
    MemberView,
)
from .wire import GossipMessage, MemberInfo, Reply

__all__ = ["Gossip", "GossipConfig", "no_path"]

log = logging.getLogger(__name__)

T = TypeVar("T")
GOSSIP_TIMEOUT = 2.0  # one push-pull exchange
REVISIT_FAILED = 0.1  # share of rounds that gossip with a failed server instead of a live one


@dataclass(frozen=True)
class GossipConfig:
    interval: float = 1.0
    failure_timeout: float = DEFAULT_FAILURE_TIMEOUT
    reap_timeout: float = DEFAULT_REAP_TIMEOUT


def no_path(region: str, table: MemberTable, now: float) -> RegionUnavailableError:
    """Nomad's "No path to region" with what this server knows about the region."""
    seen = table.last_seen(region, now)
    if seen is None:
        known = ", ".join(table.regions())
        return RegionUnavailableError(
            f'No path to region "{region}": no server of that region is known '
            f"(known regions: {known}); join one with nomadic server join <address>"
        )
    return RegionUnavailableError(
        f'No path to region "{region}": no live server known (last seen {seen:.0f}s ago)'
    )


class Gossip:
    """This server's membership in the WAN pool and its door to other regions."""

    def __init__(
        self,
        own: MemberInfo,
        pool: RPCPool,
        config: GossipConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or GossipConfig()
        if not own.incarnation:
            own = _with_incarnation(own, time.time_ns() // 1_000_000)
        self.table = MemberTable(
            own, failure_timeout=self.config.failure_timeout, reap_timeout=self.config.reap_timeout
        )
        self.pool = pool
        self.clock = clock
        self.rng = rng or random.Random()
        self.is_leader: Callable[[], bool] = lambda: False
        self.on_learn: Callable[[MemberInfo], None] = lambda _m: None
        self._pending_joins: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def region(self) -> str:
        return self.table.own.region

    # -- lifecycle ------------------------------------------------------------------------

    def add_join(self, addr: str) -> None:
        """Dial ``addr`` every round until it answers once."""
        if addr and addr != self.table.own.rpc_addr:
            self._pending_joins.add(addr)

    def start(self, retry_join: Sequence[str] = ()) -> None:
        """Gossip every interval; keep dialling ``retry_join`` addresses until each answers."""
        for addr in retry_join:
            self.add_join(addr)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self, *, leave: bool = True) -> None:
        """Stop gossiping; with ``leave`` tell a few live servers that this one left."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if not leave:
            return
        self.table.leave()
        now = self.clock()
        others = [v for v in self.table.views(now) if self._is_other_alive(v)]
        targets = self.rng.sample(others, min(3, len(others)))
        await asyncio.gather(
            *(
                self._exchange(v.member.rpc_addr, timeout=1.0, peer_region=v.member.region)
                for v in targets
            ),
            return_exceptions=True,
        )

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # a supervisor loop: log and keep gossiping
                log.exception("gossip round failed")
            await asyncio.sleep(self.config.interval)

    async def round(self) -> None:
        """One gossip round (the loop's body; tests call it directly)."""
        self.table.tick(leader=self.is_leader())
        now = self.clock()
        for name in self.table.reap(now):
            log.info("gossip: reaped server %s", name)
        # join addresses that do not answer (yet) must not hold up the round's exchange
        await asyncio.gather(self._gossip_with(self._pick(now)), self._retry_joins())

    async def _gossip_with(self, target: MemberInfo | None) -> None:
        if target is None:
            return
        try:
            await self._exchange(target.rpc_addr, peer_region=target.region)
        except NomadicError as exc:
            log.debug("gossip with %s failed: %s", target.name, exc)

    async def _retry_joins(self) -> None:
        if self._pending_joins:
            await self.join(sorted(self._pending_joins), quiet=True)

    def _is_other_alive(self, view: MemberView) -> bool:
        return view.member.name != self.table.own.name and view.status == "alive"

    def _pick(self, now: float) -> MemberInfo | None:
        views = self.table.views(now)
        alive = [v.member for v in views if self._is_other_alive(v)]
        failed = [v.member for v in views if v.status == STATUS_FAILED]
        if failed and (not alive or self.rng.random() < REVISIT_FAILED):
            return self.rng.choice(failed)
        return self.rng.choice(alive) if alive else None

    # -- exchanges ------------------------------------------------------------------------

    async def join(self, addrs: list[str], *, quiet: bool = False) -> tuple[int, str]:
        """Push-pull with each address now; (how many answered, the errors joined)."""
        results = await asyncio.gather(*(self._exchange(a) for a in addrs), return_exceptions=True)
        joined, errors = 0, []
        for addr, result in zip(addrs, results, strict=True):
            if isinstance(result, BaseException):
                errors.append(f"{addr}: {result}")
                continue
            joined += 1
            if addr in self._pending_joins:
                self._pending_joins.discard(addr)
                log.info("gossip: joined %s", addr)
        if errors and not quiet:
            log.warning("gossip: join failed: %s", "; ".join(errors))
        return joined, "; ".join(errors)

    async def _exchange(
        self, addr: str, timeout: float = GOSSIP_TIMEOUT, peer_region: str = ""
    ) -> None:
        push = GossipMessage(entries=self.table.entries(self.clock()))
        reply = await self.pool.call(
            addr, "Status.Gossip", push, GossipMessage, timeout=timeout, peer_region=peer_region
        )
        self.receive(reply)

    def receive(self, message: GossipMessage) -> GossipMessage:
        """Merge a pushed table; answer with ours (the pull)."""
        now = self.clock()
        for member in self.table.merge(message.entries, now):
            self.on_learn(member)
        return GossipMessage(entries=self.table.entries(now))

    def force_leave(self, name: str) -> bool:
        return self.table.force_leave(name, self.clock())

    # -- the view the rest of the server uses ----------------------------------------------

    def views(self) -> list[MemberView]:
        return self.table.views(self.clock())

    def regions(self) -> list[str]:
        return self.table.regions()

    def live(self, region: str) -> list[MemberInfo]:
        """The live servers of ``region`` in random order; RegionUnavailableError if none."""
        now = self.clock()
        found = self.table.alive(region, now)
        if not found:
            raise no_path(region, self.table, now)
        self.rng.shuffle(found)
        return found

    async def region_call(
        self, region: str, method: str, body: Any, reply: type[T], *, timeout: float = 15.0
    ) -> T:
        """Call ``method`` on a live server of ``region`` (random; the next on a transport
        failure). Raises the remote error, or RegionUnavailableError."""
        last: Exception | None = None
        for member in self.live(region):
            default_sink.incr_counter("nomad.nomad.rpc.cross-region", 1, {"region": region})
            try:
                return await self.pool.call(
                    member.rpc_addr, method, body, reply, timeout=timeout, peer_region=region
                )
            except RPCUnavailableError as exc:
                last = exc
                log.info("region %s: server %s did not answer: %s", region, member.name, exc)
        raise RegionUnavailableError(
            f'No path to region "{region}": no server of it answered ({last})'
        )

    async def region_call_raw(
        self, region: str, method: str, request: bytes, *, timeout: float = 15.0
    ) -> Reply:
        """:meth:`region_call` for a request already encoded (gRPC region forwarding)."""
        last: Exception | None = None
        for member in self.live(region):
            default_sink.incr_counter("nomad.nomad.rpc.cross-region", 1, {"region": region})
            try:
                return await self.pool.call_raw(
                    member.rpc_addr,
                    method,
                    request,
                    timeout=timeout,
                    region_forwarded=True,
                    peer_region=region,
                )
            except RPCUnavailableError as exc:
                last = exc
        raise RegionUnavailableError(
            f'No path to region "{region}": no server of it answered ({last})'
        )


def _with_incarnation(member: MemberInfo, incarnation: int) -> MemberInfo:
    return msgspec.structs.replace(member, incarnation=incarnation)
