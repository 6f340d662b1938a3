"""Calling servers over gRPC: a channel pool, and the client's ``ServerRPC`` with failover.

:class:`GrpcServerRPC` keeps the agent's ``client { servers = [...] }`` list and sticks to one
server while it answers; on a transport failure or "no cluster leader" it tries the next one,
and when none answers it raises, so the client's loops back off and log it (as Nomad's client
does with its server list).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import grpc  # type: ignore[import-untyped]
import msgspec

from nomadic.errors import NoLeaderError, NomadicError
from nomadic.structs import Allocation, AllocUpdate, Node
from nomadic.structs.codec import to_msgpack
from nomadic.structs.requests import NodeRegisterResponse, NodeUpdateResponse

from .tls import RPCTLS
from .wire import (
    FORWARDED_HEADER,
    GRPC_OPTIONS,
    REGION_FORWARDED_HEADER,
    REGION_HEADER,
    AllocsReply,
    Empty,
    GetClientAllocsRequest,
    IndexReply,
    MemberInfo,
    Reply,
    UpdateAllocRequest,
    UpdateStatusRequest,
    decode_error,
    path,
)

__all__ = ["GrpcServerRPC", "RPCPool", "RPCUnavailableError", "rpc_addresses"]

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_TIMEOUT = 15.0


def rpc_addresses(addrs: list[str]) -> list[str]:
    """Nomad lets join and server addresses omit the port: the RPC default, 4647, applies."""
    out = []
    for addr in addrs:
        host, sep, port = addr.rpartition(":")
        out.append(addr if sep and port.isdigit() and not host.endswith(":") else f"{addr}:4647")
    return out


class RPCUnavailableError(NomadicError):
    """No server at an address answered (connection refused, timeout)."""


class RPCPool:
    """One grpc.aio channel per server address, reused by every call; TLS when configured."""

    def __init__(self, tls: RPCTLS | None = None) -> None:
        self.tls = tls
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, addr: str, peer_region: str = "") -> grpc.aio.Channel:
        """The channel to ``addr``; with TLS, ``peer_region`` is the region whose server name
        its certificate must carry (this agent's own when empty)."""
        key = f"{addr}/{peer_region}" if self.tls is not None and peer_region else addr
        channel = self._channels.get(key)
        if channel is None:
            if self.tls is None:
                channel = grpc.aio.insecure_channel(addr, options=GRPC_OPTIONS)
            else:
                channel = grpc.aio.secure_channel(
                    addr,
                    self.tls.channel_credentials(),
                    options=GRPC_OPTIONS + self.tls.channel_options(peer_region),
                )
            self._channels[key] = channel
        return channel

    async def call_raw(
        self,
        addr: str,
        method: str,
        request: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        forwarded: bool = False,
        region: str = "",
        region_forwarded: bool = False,
        peer_region: str = "",
    ) -> Reply:
        """One call; ``region``: the region it is for (a server of another region forwards
        it there); ``peer_region``: the region of the server at ``addr``, when known."""
        stub = self._channel(addr, peer_region).unary_unary(path(method))
        headers = []
        if region:
            headers.append((REGION_HEADER, region))
        if forwarded:
            headers.append((FORWARDED_HEADER, "1"))
        if region_forwarded:
            headers.append((REGION_FORWARDED_HEADER, "1"))
        metadata = tuple(headers) or None
        try:
            data = await stub(request, timeout=timeout, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            raise RPCUnavailableError(
                f"{method} to {addr} failed: {exc.code().name} {exc.details() or ''}".strip()
            ) from None
        return msgspec.msgpack.decode(data, type=Reply)

    async def call(
        self,
        addr: str,
        method: str,
        body: Any,
        reply: type[T],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        forwarded: bool = False,
        region: str = "",
        peer_region: str = "",
    ) -> T:
        """Call ``method`` on ``addr``; raises the server's error as our own error type."""
        result = await self.call_raw(
            addr,
            method,
            to_msgpack(body),
            timeout=timeout,
            forwarded=forwarded,
            region=region,
            peer_region=peer_region,
        )
        if result.error_kind:
            raise decode_error(result)
        return msgspec.msgpack.decode(result.body, type=reply)

    async def member(self, addr: str, timeout: float = 5.0) -> MemberInfo:
        return await self.call(addr, "Status.Member", Empty(), MemberInfo, timeout=timeout)

    async def close(self) -> None:
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()


class GrpcServerRPC:
    """Implements ``nomadic.client.rpc.ServerRPC`` against a list of servers."""

    def __init__(self, servers: list[str], pool: RPCPool | None = None) -> None:
        if not servers:
            raise ValueError("GrpcServerRPC needs at least one server address")
        self.servers = list(servers)
        self.pool = pool or RPCPool()
        self._current = 0

    async def _call(
        self, method: str, body: Any, reply: type[T], timeout: float = DEFAULT_TIMEOUT
    ) -> T:
        last: NomadicError | None = None
        for step in range(len(self.servers)):
            index = (self._current + step) % len(self.servers)
            addr = self.servers[index]
            try:
                result = await self.pool.call(addr, method, body, reply, timeout=timeout)
            except (RPCUnavailableError, NoLeaderError) as exc:
                last = exc
                continue
            if index != self._current:
                log.info("rpc: failed over to server %s", addr)
                self._current = index
            return result
        assert last is not None
        log.warning("rpc: no server answered %s (tried %s): %s", method, self.servers, last)
        raise last

    async def node_register(self, node: Node) -> NodeRegisterResponse:
        return await self._call("Node.Register", node, NodeRegisterResponse)

    async def node_update_status(self, node_id: str, status: str) -> NodeUpdateResponse:
        req = UpdateStatusRequest(node_id=node_id, status=status)
        return await self._call("Node.UpdateStatus", req, NodeUpdateResponse)

    async def node_get_client_allocs(
        self, node_id: str, min_index: int, timeout: float
    ) -> tuple[list[Allocation], int]:
        req = GetClientAllocsRequest(node_id=node_id, min_index=min_index, timeout=timeout)
        result = await self._call("Node.GetClientAllocs", req, AllocsReply, timeout + 10.0)
        return result.allocs, result.index

    async def node_update_alloc(self, updates: list[AllocUpdate]) -> int:
        result = await self._call("Node.UpdateAlloc", UpdateAllocRequest(alloc=updates), IndexReply)
        return result.index

    async def close(self) -> None:
        await self.pool.close()
