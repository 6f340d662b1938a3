"""raw_exec runs the shared driver conformance suite, plus its own process-tree guarantees."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from nomadic_driver_raw_exec import RawExecDriver

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import PluginManager, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

T = TypeVar("T")


def sh(script: str) -> dict[str, object]:
    return {"command": "/bin/sh", "args": ["-c", script]}


class TestRawExecConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = RawExecDriver()
        driver.set_config({"enabled": True})
        return driver

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: sh(f"exit {code}"),
            echo=lambda text: {"command": "/bin/echo", "args": [text]},
            sleep=lambda: {"command": "/bin/sleep", "args": ["600"]},
            exec_echo=lambda text: ["/bin/echo", text],
        )


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def driver() -> RawExecDriver:
    d = RawExecDriver()
    d.set_config({"enabled": True})
    return d


def test_entry_point_registers_raw_exec() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["raw_exec"] is RawExecDriver


def test_disabled_by_default_like_nomad() -> None:
    d = RawExecDriver()
    d.set_config({})
    fp = d.fingerprint()
    assert (fp.detected, fp.healthy) == (False, False)
    assert "enabled = true" in fp.health_description


def test_enabled_fingerprint_sets_driver_attribute(driver: RawExecDriver) -> None:
    assert driver.fingerprint().attributes == {"driver.raw_exec": "1"}


def test_unknown_config_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="enabld"):
        RawExecDriver().set_config({"enabld": True})


def test_missing_command_is_a_clear_error(driver: RawExecDriver, tmp_path: Path) -> None:
    cfg = TestRawExecConformance().task_config(tmp_path, {"args": ["x"]})
    with pytest.raises(DriverError, match="command"):
        driver.start_task(cfg)


def test_missing_program_is_a_driver_error(driver: RawExecDriver, tmp_path: Path) -> None:
    cfg = TestRawExecConformance().task_config(tmp_path, {"command": "/no/such/program"})
    with pytest.raises(DriverError, match="/no/such/program"):
        driver.start_task(cfg)


def test_task_runs_in_task_dir_with_its_env(driver: RawExecDriver, tmp_path: Path) -> None:
    cfg = TestRawExecConformance().task_config(tmp_path, sh('pwd; echo "$GREETING"'), GREETING="hi")
    driver.start_task(cfg)
    assert driver.wait_task(cfg.id, 20) is not None
    assert Path(cfg.stdout_path).read_text().split() == [str(tmp_path / "local"), "hi"]


def test_stop_kills_the_grandchild(driver: RawExecDriver, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    cfg = TestRawExecConformance().task_config(
        tmp_path, sh(f"sleep 600 & echo $! > {pidfile}; wait")
    )
    driver.start_task(cfg)
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "pidfile"))
    assert not gone(pid)
    driver.stop_task(cfg.id, 1.0)
    wait_for(lambda: gone(pid), f"grandchild {pid} to die")


def test_sigkill_after_kill_timeout_when_signal_ignored(
    driver: RawExecDriver, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    cfg = TestRawExecConformance().task_config(
        tmp_path, sh(f"trap '' INT; touch {ready}; while true; do sleep 0.05; done")
    )
    driver.start_task(cfg)
    wait_for(ready.exists, "the trap to be installed")
    began = time.monotonic()
    driver.stop_task(cfg.id, 0.5)  # SIGINT, Nomad's default kill signal, is ignored
    result = driver.wait_task(cfg.id, 10)
    assert result is not None and result.signal == 9 and result.exit_code == 137
    assert time.monotonic() - began >= 0.5


def test_recovered_task_tree_is_killed_by_new_instance(
    driver: RawExecDriver, tmp_path: Path
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    cfg = TestRawExecConformance().task_config(
        tmp_path, sh(f"sleep 600 & echo $! > {pidfile}; wait")
    )
    handle = driver.start_task(cfg)
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "pidfile"))
    restarted = RawExecDriver()
    restarted.set_config({"enabled": True})
    restarted.recover_task(handle)
    restarted.stop_task(cfg.id, 1.0)
    wait_for(lambda: gone(pid), f"grandchild {pid} to die")
    result = restarted.wait_task(cfg.id, 10)
    assert result is not None


def test_fifo_output_survives_reader_restart(driver: RawExecDriver, tmp_path: Path) -> None:
    """The client's log reader may be gone (client restarting): the task keeps writing,
    and a new reader gets everything written meanwhile."""
    fifo, wrote, go = tmp_path / "out.fifo", tmp_path / "wrote", tmp_path / "go"
    os.mkfifo(fifo)
    script = f"echo one; touch {wrote}; while [ ! -e {go} ]; do sleep 0.02; done; echo two"
    cfg = TestRawExecConformance().task_config(tmp_path, sh(script))
    cfg.stdout_path = str(fifo)
    driver.start_task(cfg)
    wait_for(wrote.exists, "the first write with no reader")  # no SIGPIPE, no block
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        go.touch()
        result = driver.wait_task(cfg.id, 20)
        assert result is not None and result.successful()
        assert os.read(fd, 100) == b"one\ntwo\n"
    finally:
        os.close(fd)
