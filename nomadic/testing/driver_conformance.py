"""The shared conformance suite every task driver must pass.

Subclass :class:`DriverConformance` in a test module (its name must start with ``Test``) and
implement :meth:`make_driver` and :meth:`commands`; pytest then runs every ``test_*`` below
against the driver::

    class TestRawExecConformance(DriverConformance):
        def make_driver(self) -> TaskDriver:
            driver = RawExecDriver()
            driver.set_config({"enabled": True})
            return driver

        def commands(self) -> CommandSpec:
            return CommandSpec(
                exit_code=lambda code: {"command": "/bin/sh", "args": ["-c", f"exit {code}"]},
                echo=lambda text: {"command": "/bin/echo", "args": [text]},
                sleep=lambda: {"command": "/bin/sleep", "args": ["600"]},
                exec_echo=lambda text: ["/bin/echo", text],
            )

The "client restart" test hands the handle from one driver instance to a new one. Waits use
deadlines, never fixed sleeps.
"""

from __future__ import annotations

import abc
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nomadic.errors import DriverError
from nomadic.plugin import ExecInput, ExecStreams, TaskConfig, TaskDriver

__all__ = ["CommandSpec", "DriverConformance"]

WAIT = 30.0


@dataclass(frozen=True)
class CommandSpec:
    """Task ``config {}`` blocks for the driver under test."""

    exit_code: Callable[[int], dict[str, Any]]  # exits with the given code
    echo: Callable[[str], dict[str, Any]]  # prints the text and a newline on stdout, exits 0
    sleep: Callable[[], dict[str, Any]]  # runs until stopped, dies on SIGINT/SIGTERM
    exec_echo: Callable[[str], list[str]]  # a command for exec_task printing the text


class DriverConformance(abc.ABC):
    @abc.abstractmethod
    def make_driver(self) -> TaskDriver: ...

    @abc.abstractmethod
    def commands(self) -> CommandSpec: ...

    @pytest.fixture
    def driver(self) -> Iterator[TaskDriver]:
        driver = self.make_driver()
        yield driver
        driver.shutdown()

    @pytest.fixture
    def task_dir(self, tmp_path: Path) -> Path:
        (tmp_path / "local").mkdir()
        return tmp_path

    def task_config(self, task_dir: Path, config: dict[str, Any], **env: str) -> TaskConfig:
        (task_dir / "local").mkdir(exist_ok=True)
        return TaskConfig(
            id=f"{uuid.uuid4()}/t/{uuid.uuid4().hex[:8]}",
            name="t",
            alloc_id=str(uuid.uuid4()),
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
            alloc_dir=str(task_dir),
            task_dir=str(task_dir / "local"),
            stdout_path=str(task_dir / "stdout"),
            stderr_path=str(task_dir / "stderr"),
            config=config,
        )

    def test_fingerprint_is_detected_and_healthy(self, driver: TaskDriver) -> None:
        fp = driver.fingerprint()
        assert fp.detected and fp.healthy, fp.health_description

    def test_wait_returns_exit_code(self, driver: TaskDriver, task_dir: Path) -> None:
        cfg = self.task_config(task_dir, self.commands().exit_code(3))
        driver.start_task(cfg)
        result = driver.wait_task(cfg.id, WAIT)
        assert result is not None and result.exit_code == 3 and not result.successful()
        driver.destroy_task(cfg.id)

    def test_stdout_reaches_the_given_path(self, driver: TaskDriver, task_dir: Path) -> None:
        cfg = self.task_config(task_dir, self.commands().echo("hello conformance"))
        driver.start_task(cfg)
        result = driver.wait_task(cfg.id, WAIT)
        assert result is not None and result.successful()
        assert "hello conformance" in Path(cfg.stdout_path).read_text()

    def test_wait_with_timeout_returns_none_while_running(
        self, driver: TaskDriver, task_dir: Path
    ) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        try:
            assert driver.wait_task(cfg.id, 0.05) is None
            assert driver.inspect_task(cfg.id).state == "running"
        finally:
            driver.stop_task(cfg.id, 5.0)
            driver.destroy_task(cfg.id)

    def test_stop_ends_the_task_within_its_timeout(
        self, driver: TaskDriver, task_dir: Path
    ) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        began = time.monotonic()
        driver.stop_task(cfg.id, 5.0, "SIGTERM")
        result = driver.wait_task(cfg.id, WAIT)
        assert result is not None and result.signal == 15
        assert time.monotonic() - began < 5.0
        assert driver.inspect_task(cfg.id).state == "exited"

    def test_destroy_refuses_a_running_task_unless_forced(
        self, driver: TaskDriver, task_dir: Path
    ) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        with pytest.raises(DriverError):
            driver.destroy_task(cfg.id)
        driver.destroy_task(cfg.id, force=True)
        with pytest.raises(DriverError):
            driver.inspect_task(cfg.id)

    def test_stats_report_memory_of_a_running_task(
        self, driver: TaskDriver, task_dir: Path
    ) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        try:
            stats = driver.task_stats(cfg.id)
            assert stats.resource_usage.memory_stats.rss > 0
            assert stats.timestamp > 0
        finally:
            driver.destroy_task(cfg.id, force=True)

    def test_signal_is_delivered(self, driver: TaskDriver, task_dir: Path) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        driver.signal_task(cfg.id, "SIGTERM")
        result = driver.wait_task(cfg.id, WAIT)
        assert result is not None and result.signal == 15
        driver.destroy_task(cfg.id)

    def test_exec_runs_in_the_task_environment(self, driver: TaskDriver, task_dir: Path) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        try:
            out = driver.exec_task(cfg.id, self.commands().exec_echo("from exec"), 10.0)
            assert out.exit_code == 0 and b"from exec" in out.stdout
        finally:
            driver.destroy_task(cfg.id, force=True)

    def test_exec_streaming_runs_or_is_refused(self, driver: TaskDriver, task_dir: Path) -> None:
        """``alloc exec``: a driver that implements it streams the output and returns the
        exit code; one that does not refuses with a DriverError."""
        cfg = self.task_config(task_dir, self.commands().sleep())
        driver.start_task(cfg)
        out: list[bytes] = []
        streams = ExecStreams(out.append, out.append)
        command = self.commands().exec_echo("streamed exec")
        try:
            if type(driver).exec_task_streaming is TaskDriver.exec_task_streaming:
                with pytest.raises(DriverError, match="not supported"):
                    driver.exec_task_streaming(cfg.id, command, False, streams)
                return
            streams.put_input(ExecInput(close=True))
            result = driver.exec_task_streaming(cfg.id, command, False, streams)
            assert result.exit_code == 0 and b"streamed exec" in b"".join(out)
        finally:
            driver.destroy_task(cfg.id, force=True)

    def test_recover_from_handle_in_new_driver_instance(
        self, driver: TaskDriver, task_dir: Path
    ) -> None:
        cfg = self.task_config(task_dir, self.commands().sleep())
        handle = driver.start_task(cfg)
        restarted = self.make_driver()
        restarted.recover_task(handle)
        assert restarted.inspect_task(cfg.id).state == "running"
        assert restarted.wait_task(cfg.id, 0.05) is None
        restarted.stop_task(cfg.id, 5.0)
        assert restarted.wait_task(cfg.id, WAIT) is not None
        assert driver.wait_task(cfg.id, WAIT) is not None

    def test_recover_of_a_dead_task_fails(self, driver: TaskDriver, task_dir: Path) -> None:
        cfg = self.task_config(task_dir, self.commands().exit_code(0))
        handle = driver.start_task(cfg)
        assert driver.wait_task(cfg.id, WAIT) is not None
        with pytest.raises(DriverError):
            self.make_driver().recover_task(handle)
