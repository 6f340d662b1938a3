"""The mock driver runs the shared conformance suite, plus its own task-config behaviour."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nomadic_driver_mock import MockDriver, parse_duration

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import PluginManager, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance


class TestMockConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = MockDriver()
        driver.set_config({"enabled": True})
        return driver

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: {"exit_code": code},
            echo=lambda text: {"stdout_string": f"{text}\n"},
            sleep=lambda: {"run_for": "10m"},
            exec_echo=lambda text: ["echo", text],
        )


@pytest.fixture
def driver() -> MockDriver:
    d = MockDriver()
    d.set_config({"enabled": True})
    return d


def test_disabled_by_default() -> None:
    fp = MockDriver().fingerprint()
    assert (fp.detected, fp.healthy) == (False, False)
    assert "enabled = true" in fp.health_description


def cfg(tmp_path: Path, config: dict[str, object]) -> object:
    return TestMockConformance().task_config(tmp_path, config)


def test_entry_point_registers_mock() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["mock"] is MockDriver


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("500ms", 0.5), ("30s", 30.0), ("1m30s", 90.0), ("2h", 7200.0), (3, 3.0)],
    ids=["zero", "ms", "s", "m-s", "h", "number"],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text, "run_for") == pytest.approx(seconds)


def test_bad_duration_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"run_for = '10 minutes'.*1m30s"):
        parse_duration("10 minutes", "run_for")


def test_run_for_then_exit_code(driver: MockDriver, tmp_path: Path) -> None:
    c = cfg(tmp_path, {"run_for": "200ms", "exit_code": 4})
    driver.start_task(c)  # type: ignore[arg-type]
    began = time.monotonic()
    assert driver.inspect_task(c.id).state == "running"  # type: ignore[attr-defined]
    result = driver.wait_task(c.id, 10)  # type: ignore[attr-defined]
    assert result is not None and result.exit_code == 4
    assert time.monotonic() - began >= 0.15


def test_start_error_is_a_driver_error(driver: MockDriver, tmp_path: Path) -> None:
    c = cfg(tmp_path, {"start_error": "no luck", "start_error_recoverable": True})
    with pytest.raises(DriverError, match="no luck") as info:
        driver.start_task(c)  # type: ignore[arg-type]
    assert info.value.recoverable


def test_unknown_task_config_key_is_named(driver: MockDriver, tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="run_fro"):
        driver.start_task(cfg(tmp_path, {"run_fro": "1s"}))  # type: ignore[arg-type]


def test_kill_after_longer_than_timeout_is_sigkill(driver: MockDriver, tmp_path: Path) -> None:
    c = cfg(tmp_path, {"run_for": "10m", "kill_after": "1h"})
    driver.start_task(c)  # type: ignore[arg-type]
    driver.stop_task(c.id, 0.1)  # type: ignore[attr-defined]
    result = driver.wait_task(c.id, 5)  # type: ignore[attr-defined]
    assert result is not None and result.signal == 9 and result.exit_code == 137


def test_kill_after_within_timeout_dies_of_the_signal(driver: MockDriver, tmp_path: Path) -> None:
    c = cfg(tmp_path, {"run_for": "10m", "kill_after": "100ms"})
    driver.start_task(c)  # type: ignore[arg-type]
    began = time.monotonic()
    driver.stop_task(c.id, 5.0)  # type: ignore[attr-defined]
    result = driver.wait_task(c.id, 5)  # type: ignore[attr-defined]
    assert result is not None and result.signal == 2  # SIGINT, the default kill signal
    assert time.monotonic() - began >= 0.09
