"""The ``ServerAPI`` side of global objects (namespaces, node pools), mixed into ``Server``.

Writes go to the authoritative region (``server { authoritative_region }``, default: this
one): on its leader they run ``endpoints/globalobjs.py``; from a follower they are forwarded
to the leader, from another region over the federation's ``region_rpc``. Outside the
authoritative region, the leader's replication duty (``replication.py``) copies them back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nomadic.structs.globalobjs import (
    GlobalDeleteRequest,
    GlobalWriteResponse,
    NamespaceUpsertRequest,
    NodePoolUpsertRequest,
)

from .replication import AuthoritativeSource, GlobalReplicator, RegionSource

if TYPE_CHECKING:
    from nomadic.state.entries import Payload
    from nomadic.state.snapshot import Snapshot

    from .endpoints.globalobjs import GlobalObjectsEndpoint
    from .server import ServerConfig

__all__ = ["GlobalObjectsAPI"]

T = TypeVar("T")


class GlobalObjectsAPI:
    """Namespace and node pool writes, and the replication duty's construction."""

    config: ServerConfig
    region: str
    global_objects: GlobalObjectsEndpoint
    # where replication reads global objects (tests set a fake); default: region_rpc
    authoritative_source: AuthoritativeSource | None
    replicator: GlobalReplicator | None  # the running one, on a leader

    if TYPE_CHECKING:  # provided by Server

        def snapshot(self) -> Snapshot: ...

        async def apply(self, payload: Payload) -> int: ...

        async def region_rpc(
            self, region: str, method: str, body: Any, reply: type[T], *, timeout: float = 15.0
        ) -> T: ...

        async def _on_leader(
            self, method: str, req: Any, reply: type[T], local: Callable[[], Awaitable[T]]
        ) -> T: ...

    def authoritative_region(self) -> str:
        return self.config.authoritative_region or self.region

    def is_authoritative(self) -> bool:
        return self.authoritative_region() == self.region

    async def namespace_upsert(self, req: NamespaceUpsertRequest) -> GlobalWriteResponse:
        return await self._global_write(
            "Namespace.UpsertNamespaces",
            req,
            lambda: self.global_objects.upsert_namespaces(req.namespaces),
        )

    async def namespace_delete(self, req: GlobalDeleteRequest) -> GlobalWriteResponse:
        return await self._global_write(
            "Namespace.DeleteNamespaces",
            req,
            lambda: self.global_objects.delete_namespaces(req.names),
        )

    async def node_pool_upsert(self, req: NodePoolUpsertRequest) -> GlobalWriteResponse:
        return await self._global_write(
            "NodePool.UpsertNodePools",
            req,
            lambda: self.global_objects.upsert_node_pools(req.node_pools),
        )

    async def node_pool_delete(self, req: GlobalDeleteRequest) -> GlobalWriteResponse:
        return await self._global_write(
            "NodePool.DeleteNodePools",
            req,
            lambda: self.global_objects.delete_node_pools(req.names),
        )

    def global_replicator(self) -> GlobalReplicator | None:
        """A new replication duty for this leader; None in the authoritative region."""
        if self.is_authoritative():
            return None
        region = self.authoritative_region()
        source = self.authoritative_source or RegionSource(self.region_rpc, region)
        backoff = self.config.replication_backoff
        self.replicator = GlobalReplicator(self, source, region, backoff=backoff)
        return self.replicator

    async def _global_write(
        self, method: str, req: Any, local: Callable[[], Awaitable[int]]
    ) -> GlobalWriteResponse:
        """Write in the authoritative region: here (on the leader), or forwarded there."""
        if not self.is_authoritative():
            # RegionUnavailableError names the region when none of its servers answers
            resp: GlobalWriteResponse = await self.region_rpc(
                self.authoritative_region(), method, req, GlobalWriteResponse
            )
            return resp

        async def write() -> GlobalWriteResponse:
            return GlobalWriteResponse(index=await local())

        return await self._on_leader(method, req, GlobalWriteResponse, write)
