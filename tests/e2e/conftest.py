"""Fixtures that start real ``nomadic agent -dev`` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nomadic.testing.agent_process import AgentProcess

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    agent = AgentProcess(tmp_path_factory.mktemp("agent"))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def jobs_dir() -> Path:
    return REPO / "jobs"
