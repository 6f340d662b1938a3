"""LocalServerRPC: the client's ``ServerRPC`` seam served in-process by this agent's server.

Used by ``nomadic agent -dev`` (server and client in one process); the gRPC implementation
replaces it when client and server are apart.
"""

from __future__ import annotations

from nomadic.structs import Allocation, AllocUpdate, Node
from nomadic.structs.requests import NodeRegisterResponse, NodeUpdateResponse

from .server import Server

__all__ = ["LocalServerRPC"]


class LocalServerRPC:
    """Implements ``nomadic.client.rpc.ServerRPC`` by calling the server's node endpoint."""

    def __init__(self, server: Server) -> None:
        self._server = server

    async def node_register(self, node: Node) -> NodeRegisterResponse:
        self._server.require_leader()
        return await self._server.nodes.register(node)

    async def node_update_status(self, node_id: str, status: str) -> NodeUpdateResponse:
        self._server.require_leader()
        return await self._server.nodes.update_status(node_id, status)

    async def node_get_client_allocs(
        self, node_id: str, min_index: int, timeout: float
    ) -> tuple[list[Allocation], int]:
        return await self._server.nodes.get_client_allocs(node_id, min_index, timeout)

    async def node_update_alloc(self, updates: list[AllocUpdate]) -> int:
        return await self._server.nodes.update_alloc(updates)
