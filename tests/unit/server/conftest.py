"""A real Server (one-node Raft on a free port) driven by the fake scheduler."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server_fakes import fake_factory, server_config

from nomadic.server import Server


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(server_config(), scheduler_factory=fake_factory)
    await srv.start()
    await srv.wait_for_leader()
    yield srv
    await srv.shutdown()
