"""The client's seam to the servers (Nomad's Node.* RPCs).

In ``-dev`` the agent passes an in-process implementation over its own server; the cluster
issue adds a gRPC implementation with server failover. The client never touches server state
directly.
"""

from __future__ import annotations

from typing import Protocol

from nomadic.structs import Allocation, AllocUpdate, Node
from nomadic.structs.requests import NodeRegisterResponse, NodeUpdateResponse


class ServerRPC(Protocol):
    async def node_register(self, node: Node) -> NodeRegisterResponse:
        """Node.Register: add or update the node; returns the heartbeat TTL."""
        ...

    async def node_update_status(self, node_id: str, status: str) -> NodeUpdateResponse:
        """Node.UpdateStatus: the heartbeat. Raises NotFoundError if the node is unknown."""
        ...

    async def node_get_client_allocs(
        self, node_id: str, min_index: int, timeout: float
    ) -> tuple[list[Allocation], int]:
        """Node.GetClientAllocs: blocks until the node's allocations change past ``min_index``
        (or ``timeout`` seconds pass); returns every allocation on the node (with its Job) and
        the index to pass next time."""
        ...

    async def node_update_alloc(self, updates: list[AllocUpdate]) -> int:
        """Node.UpdateAlloc: client-side status of allocations, batched; returns the index."""
        ...
