"""exec runs the shared driver conformance suite, plus its isolation guarantees."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nomadic_driver_exec import ExecDriver, isolation_problem

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import ExecInput, ExecStreams, PluginManager, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

T = TypeVar("T")
PROBLEM = isolation_problem()
pytestmark = pytest.mark.skipif(bool(PROBLEM), reason=f"exec isolation unavailable: {PROBLEM}")


def sh(script: str, **extra: Any) -> dict[str, Any]:
    return {"command": "/bin/sh", "args": ["-c", script], **extra}


class TestExecConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = ExecDriver()
        driver.set_config({})
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


@pytest.fixture
def driver() -> ExecDriver:
    d = ExecDriver()
    d.set_config({})
    return d


def run(driver: ExecDriver, tmp_path: Path, config: dict[str, Any], **fields: Any) -> str:
    cfg = TestExecConformance().task_config(tmp_path, config)
    for key, value in fields.items():
        setattr(cfg, key, value)
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 30)
    assert result is not None and result.successful(), (result, Path(cfg.stderr_path).read_text())
    driver.destroy_task(cfg.id)
    return Path(cfg.stdout_path).read_text()


def test_entry_point_registers_exec() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["exec"] is ExecDriver


def test_fingerprint_attribute(driver: ExecDriver) -> None:
    assert driver.fingerprint().attributes == {"driver.exec": "1"}


def test_task_sees_only_its_own_processes(driver: ExecDriver, tmp_path: Path) -> None:
    out = run(driver, tmp_path, sh("ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '"))
    pids = [int(p) for p in out.split()]
    # init (1), sh and the pipeline: nothing of the host's
    assert pids[0] == 1 and len(pids) <= 6 and max(pids) <= 10, out
    assert len(os.listdir("/proc")) > 20


def test_runs_as_nobody_in_a_chroot_with_task_dirs(driver: ExecDriver, tmp_path: Path) -> None:
    out = run(
        driver,
        tmp_path,
        sh('id -un; pwd; ls /; echo "$NOMAD_TASK_DIR"'),
        env={"PATH": "/usr/bin:/bin", "NOMAD_TASK_DIR": str(tmp_path / "local")},
    )
    lines = out.split("\n")
    assert lines[0] == "nobody" and lines[1] == "/"
    listing = set(out.split())
    assert {"local", "usr", "etc", "proc", "dev"} <= listing
    assert "home" not in listing and "root" not in listing
    assert lines[-2] == "/local"


def test_user_field_selects_the_account(driver: ExecDriver, tmp_path: Path) -> None:
    assert run(driver, tmp_path, sh("id -u"), user="daemon").strip() == "1"


def test_host_filesystem_is_read_only(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(tmp_path, sh("touch /usr/x"), user="root")
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 30)
    assert result is not None and result.exit_code != 0
    assert "Read-only" in Path(cfg.stderr_path).read_text()


def test_memory_limit_oom_kills(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(
        tmp_path,
        {
            "command": "/bin/sh",
            "args": ["-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo $x"],
        },
    )
    cfg.memory_mb = 32
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 60)
    assert result is not None and result.oom_killed, result
    assert result.err == "OOM Killed"


def test_stop_kills_the_whole_tree(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(tmp_path, sh("sleep 600 & sleep 600 & wait"))
    driver.start_task(cfg)
    task = driver._get(cfg.id)
    assert task.cgroup is not None
    wait_for(lambda: len(task.cgroup.pids()) >= 4 if task.cgroup else None, "the children")
    driver.stop_task(cfg.id, 0.2)
    assert driver.wait_task(cfg.id, 10) is not None
    wait_for(
        lambda: (
            not Path(task.cgroup.dirs["memory" if task.cgroup.version == 1 else "unified"]).exists()
            if task.cgroup
            else None
        ),
        "cgroup removal",
    )


def test_exec_enters_the_namespaces(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(tmp_path, {"command": "/bin/sleep", "args": ["600"]})
    driver.start_task(cfg)
    try:
        out = driver.exec_task(cfg.id, ["/bin/sh", "-c", "id -un; ls /proc | grep -c '^[0-9]'"], 10)
        name, count = out.stdout.decode().split()
        assert name == "nobody" and int(count) <= 6, out  # init, sleep, sh, ls, grep
    finally:
        driver.destroy_task(cfg.id, force=True)


def test_missing_program_is_a_driver_error(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(tmp_path, {"command": "/no/such/program"})
    with pytest.raises(DriverError, match="/no/such/program"):
        driver.start_task(cfg)


def test_unknown_task_key_and_cap_add_are_refused(driver: ExecDriver, tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="comand"):
        driver.start_task(TestExecConformance().task_config(tmp_path, {"comand": "x"}))
    with pytest.raises(DriverError, match="cap_add"):
        driver.start_task(
            TestExecConformance().task_config(
                tmp_path, {"command": "/bin/true", "cap_add": ["net_raw"]}
            )
        )


def test_bad_plugin_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="default_pid_mode"):
        ExecDriver().set_config({"default_pid_mode": "shared"})


def test_interactive_exec_gets_a_terminal_in_the_task(driver: ExecDriver, tmp_path: Path) -> None:
    cfg = TestExecConformance().task_config(tmp_path, {"command": "/bin/sleep", "args": ["600"]})
    driver.start_task(cfg)
    try:
        out: list[bytes] = []
        streams = ExecStreams(out.append, out.append)
        streams.put_input(ExecInput(data=b"id -un; ls /proc | grep -c '^[0-9]'; exit 4\n"))
        result = driver.exec_task_streaming(cfg.id, ["/bin/sh"], True, streams)
        lines = b"".join(out).decode().replace("\r", "").splitlines()
        assert result.exit_code == 4, lines
        assert any(line.endswith("nobody") for line in lines), lines  # after the prompt
        assert int(lines[-1]) <= 6, lines
    finally:
        driver.destroy_task(cfg.id, force=True)
