"""A real one-node Server behind a real gRPC listener on loopback, for the rpc tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nomadic.rpc import RPCPool, RPCServer
from nomadic.rpc.wire import MemberInfo
from nomadic.server import Server, ServerConfig
from nomadic.server.heartbeat import HeartbeatConfig
from nomadic.testing.agent_process import free_port


@asynccontextmanager
async def served_server(num_schedulers: int) -> AsyncIterator[tuple[RPCServer, Server]]:
    """The gRPC server and the leading Server it serves (heartbeat TTLs long enough that no
    test's node goes down)."""
    raft_port, rpc_port = free_port(), free_port()
    member = MemberInfo(
        name="s1.global", rpc_addr=f"127.0.0.1:{rpc_port}", raft_addr=f"127.0.0.1:{raft_port}"
    )
    rpc = RPCServer("127.0.0.1", rpc_port, member, RPCPool())
    await rpc.start()
    server = Server(
        ServerConfig(
            raft_port=raft_port,
            rpc_port=rpc_port,
            num_schedulers=num_schedulers,
            heartbeat=HeartbeatConfig(min_heartbeat_ttl=60, heartbeat_grace=60),
        )
    )
    rpc.attach(server)
    await server.start()
    await server.wait_for_leader()
    try:
        yield rpc, server
    finally:
        await server.shutdown()
        await rpc.stop()
        await rpc.pool.close()
