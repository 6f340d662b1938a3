"""A real Server (one-node Raft on a free port) driven by the fake scheduler."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server_fakes import fake_factory

from nomadic.server import Server, ServerConfig
from nomadic.server.heartbeat import HeartbeatConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_config(**overrides: object) -> ServerConfig:
    fields: dict[str, object] = {
        "raft_port": free_port(),
        "num_schedulers": 2,
        "node_name": "test",
        # long TTLs so nodes stay up unless a test asks otherwise
        "heartbeat": HeartbeatConfig(min_heartbeat_ttl=60, heartbeat_grace=60),
    }
    fields.update(overrides)
    return ServerConfig(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(server_config(), scheduler_factory=fake_factory)
    await srv.start()
    await srv.wait_for_leader()
    yield srv
    await srv.shutdown()
