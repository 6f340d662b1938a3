"""Fixtures for API client tests: the HTTP app over fakes on a free port (shared with CLI tests)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))

from cli_agent import Agent, serve_agent


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    yield from serve_agent(tmp_path)
