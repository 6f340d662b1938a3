"""Replication of global objects from the authoritative region (a leader duty elsewhere).

Nomad's ``replicateNamespaces`` / ``replicateNodePools`` (``nomad/leader.go``): the leader of
every region that is not authoritative long-polls the authoritative region for each kind of
object, diffs the answer against its own state and commits the difference through its own
Raft, one entry for the upserts and one for the deletes of each round:

    leader (us) --list(min_index)--> any server of eu (blocking query, stale allowed)
         <-- (index, objects) --   diff against local state
         --raft--> NamespaceUpsert / NamespaceDelete          (then min_index = index)
    error: log, wait ``backoff`` (30 s), retry; the replicas keep serving meanwhile

What replicates is what ``AuthoritativeSource`` lists: namespaces and node pools today (ACL
objects will follow the same pattern). Built-ins are never replicated (every region has them),
and a delete the local FSM refuses (a namespace that still has jobs here, a pool with nodes)
is logged and tried again on the next change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from nomadic.state.entries import (
    NamespaceDelete,
    NamespaceUpsert,
    NodePoolDelete,
    NodePoolUpsert,
    Payload,
)
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Namespace, NodePool
from nomadic.structs.consts import DEFAULT_NAMESPACE
from nomadic.structs.globalobjs import (
    BUILTIN_NODE_POOLS,
    GlobalListRequest,
    NamespaceListReply,
    NodePoolListReply,
)
from nomadic.telemetry import default_sink

__all__ = [
    "AuthoritativeSource",
    "GlobalReplicator",
    "RegionSource",
    "diff_objects",
]

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = 30.0  # seconds after an error (Nomad's replication backoff)
LIST_WAIT = 8.0  # seconds the authoritative region holds a blocking list open


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    def same_spec(self, other: Any) -> bool: ...


N = TypeVar("N", bound=_Named)


class AuthoritativeSource(Protocol):
    """What replication reads from the authoritative region: blocking lists that answer once
    the kind's index passes ``min_index`` (or after a wait), as (index, objects)."""

    async def list_namespaces(self, min_index: int) -> tuple[int, list[Namespace]]: ...

    async def list_node_pools(self, min_index: int) -> tuple[int, list[NodePool]]: ...


class ReplicationHost(Protocol):
    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...


def diff_objects(
    local: Sequence[N], remote: Sequence[N], builtins: Sequence[str]
) -> tuple[list[N], list[str]]:
    """(objects to upsert, names to delete) that make ``local`` equal ``remote``, leaving
    built-ins alone. An object whose spec is unchanged (indexes aside) is not rewritten."""
    have = {o.name: o for o in local}
    want = {o.name: o for o in remote if o.name not in builtins}
    upserts = [
        o for name, o in sorted(want.items()) if name not in have or not o.same_spec(have[name])
    ]
    deletes = sorted(name for name in have if name not in want and name not in builtins)
    return upserts, deletes


@dataclass
class _Kind:
    """One kind of replicated object: how to fetch it, read it locally and write it."""

    name: str
    fetch: Callable[[int], Awaitable[tuple[int, Sequence[Any]]]]
    local: Callable[[Snapshot], Sequence[Any]]
    builtins: tuple[str, ...]
    upsert: Callable[[list[Any]], Payload]
    delete: Callable[[list[str]], Payload]


@dataclass
class ReplicationStatus:
    """Where one kind's replication stands (for logs, tests and operators)."""

    index: int = 0  # the authoritative region's index last applied here
    rounds: int = 0
    last_error: str = ""


@dataclass
class GlobalReplicator:
    host: ReplicationHost
    source: AuthoritativeSource
    region: str  # the authoritative region, for messages
    backoff: float = DEFAULT_BACKOFF
    status: dict[str, ReplicationStatus] = field(default_factory=dict)

    def _kinds(self) -> list[_Kind]:
        return [
            _Kind(
                "namespaces",
                self.source.list_namespaces,
                lambda snap: snap.namespaces(),
                (DEFAULT_NAMESPACE,),
                lambda objs: NamespaceUpsert(namespaces=objs),
                lambda names: NamespaceDelete(names=names),
            ),
            _Kind(
                "node_pools",
                self.source.list_node_pools,
                lambda snap: snap.node_pools(),
                BUILTIN_NODE_POOLS,
                lambda objs: NodePoolUpsert(pools=objs),
                lambda names: NodePoolDelete(names=names),
            ),
        ]

    async def run(self) -> None:
        """Replicate every kind until cancelled (leadership lost)."""
        log.info("replicating namespaces and node pools from region %s", self.region)
        await asyncio.gather(*(self._replicate(kind) for kind in self._kinds()))

    async def _replicate(self, kind: _Kind) -> None:
        status = self.status.setdefault(kind.name, ReplicationStatus())
        while True:
            try:
                await self.round(kind, status)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a supervisor loop: log, count, back off, go on
                status.last_error = str(exc) or type(exc).__name__
                default_sink.incr_counter("nomad.nomad.replication.error", 1, {"kind": kind.name})
                log.warning(
                    "replication of %s from region %s failed, retrying in %.1fs: %s",
                    kind.name,
                    self.region,
                    self.backoff,
                    status.last_error,
                )
                await asyncio.sleep(self.backoff)

    async def round(self, kind: _Kind, status: ReplicationStatus) -> None:
        """One blocking list and the writes that bring the local state in line."""
        index, remote = await kind.fetch(status.index)
        upserts, deletes = diff_objects(kind.local(self.host.snapshot()), remote, kind.builtins)
        if upserts:
            await self.host.apply(kind.upsert(upserts))
        if deletes:
            await self.host.apply(kind.delete(deletes))
        if upserts or deletes:
            log.info(
                "replicated %s from region %s: %d upserted, %d deleted (index %d)",
                kind.name,
                self.region,
                len(upserts),
                len(deletes),
                index,
            )
        if 0 < index < status.index:
            status.index = 0  # the authoritative state was rebuilt: read everything again
        else:
            # at least 1: a kind never written there (index 0) is waited on, not polled
            status.index = max(index, 1)
        status.rounds += 1
        status.last_error = ""


class RegionCall(Protocol):
    """The federation's cross-region call (``Server.region_rpc``)."""

    async def __call__(
        self, region: str, method: str, body: Any, reply: type[Any], *, timeout: float = ...
    ) -> Any: ...


LIST_DEADLINE_MARGIN = 5.0  # seconds on top of the blocking wait for the call itself


class RegionSource:
    """``AuthoritativeSource`` over the federation's cross-region call: the blocking lists
    of ``Namespace.ListNamespaces`` / ``NodePool.ListNodePools`` on a server of ``region``."""

    def __init__(self, call: RegionCall, region: str, wait: float = LIST_WAIT) -> None:
        self._call = call
        self._region = region
        self._wait = wait

    async def list_namespaces(self, min_index: int) -> tuple[int, list[Namespace]]:
        req = GlobalListRequest(min_index=min_index, timeout=self._wait)
        reply: NamespaceListReply = await self._call(
            self._region,
            "Namespace.ListNamespaces",
            req,
            NamespaceListReply,
            timeout=self._wait + LIST_DEADLINE_MARGIN,
        )
        return reply.index, reply.namespaces

    async def list_node_pools(self, min_index: int) -> tuple[int, list[NodePool]]:
        req = GlobalListRequest(min_index=min_index, timeout=self._wait)
        reply: NodePoolListReply = await self._call(
            self._region,
            "NodePool.ListNodePools",
            req,
            NodePoolListReply,
            timeout=self._wait + LIST_DEADLINE_MARGIN,
        )
        return reply.index, reply.node_pools
