"""Fixtures: the HTTP app over in-memory fakes of the server and client roles."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).parent))

from http_fakes import FakeClient, FakeServer

from nomadic.http import build_app


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def client(tmp_path: Path) -> FakeClient:
    return FakeClient(tmp_path / "allocs")


@pytest.fixture
async def api(server: FakeServer, client: FakeClient) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = build_app(
        server,
        client,
        {"name": "node1", "data_dir": "/tmp/x", "ports": {"http": 4646, "rpc": 4647}},
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
