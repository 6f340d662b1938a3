"""The agent's ``telemetry`` block and log settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomadic.agent.agent import Agent
from nomadic.agent.config import AgentConfig, load_file
from nomadic.agent.logs import level_number
from nomadic.errors import ConfigError


def test_telemetry_block_is_read(tmp_path: Path) -> None:
    path = tmp_path / "agent.hcl"
    path.write_text(
        'log_json = true\nlog_level = "WARN"\n'
        'telemetry {\n  prometheus_metrics = true\n  collection_interval = "5s"\n'
        "  publish_allocation_metrics = true\n}\n"
    )
    cfg = load_file(str(path))
    assert cfg.telemetry.prometheus_metrics is True
    assert cfg.telemetry.publish_allocation_metrics is True
    assert cfg.telemetry.publish_node_metrics is False
    assert cfg.log_json is True
    assert Agent(cfg).collection.interval == 5.0


def test_dev_mode_turns_telemetry_on() -> None:
    tel = AgentConfig.dev().telemetry
    assert (tel.prometheus_metrics, tel.publish_allocation_metrics, tel.publish_node_metrics) == (
        True,
        True,
        True,
    )
    assert AgentConfig().telemetry.prometheus_metrics is False


def test_unknown_telemetry_key_names_it(tmp_path: Path) -> None:
    path = tmp_path / "agent.hcl"
    path.write_text("telemetry {\n  prometheus_metric = true\n}\n")
    with pytest.raises(ConfigError, match="unknown key 'prometheus_metric'; did you mean"):
        load_file(str(path))


def test_bad_collection_interval_is_a_config_error() -> None:
    cfg = AgentConfig()
    cfg.telemetry.collection_interval = "soon"
    with pytest.raises(ConfigError, match=r"telemetry\.collection_interval: invalid duration"):
        Agent(cfg)


@pytest.mark.parametrize(
    ("name", "level"),
    [("TRACE", 10), ("debug", 10), ("INFO", 20), ("WARN", 30), ("ERROR", 40)],
)
def test_nomad_log_levels(name: str, level: int) -> None:
    assert level_number(name) == level


def test_unknown_log_level() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        level_number("LOUD")
