"""Fixtures for CLI tests: ``agent`` serves the HTTP API over fakes on a free port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cli_agent import Agent, serve_agent


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    yield from serve_agent(tmp_path)
