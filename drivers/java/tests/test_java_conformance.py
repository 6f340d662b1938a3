"""java runs the shared driver conformance suite against a jar compiled with javac at test time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from nomadic_driver_exec import isolation_problem
from nomadic_driver_java import JavaDriver, parse_version

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import PluginManager, TaskConfig, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

MAIN = """
public class Main {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "exit": System.exit(Integer.parseInt(args[1])); break;
            case "echo":
                String[] words = java.util.Arrays.copyOfRange(args, 1, args.length);
                System.out.println(String.join(" ", words));
                break;
            case "sleep": Thread.sleep(600_000); break;
            default: System.exit(2);
        }
    }
}
"""
MISSING = [tool for tool in ("java", "javac", "jar") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"no {', '.join(MISSING)} on PATH")
JAR: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def app_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A jar whose Main runs: exit N | echo words... | sleep (compiled once per module)."""
    src = tmp_path_factory.mktemp("java")
    (src / "Main.java").write_text(MAIN)
    subprocess.run(["javac", "-d", str(src / "classes"), str(src / "Main.java")], check=True)
    jar = src / "app.jar"
    subprocess.run(
        [
            "jar",
            "--create",
            "--file",
            str(jar),
            "--main-class",
            "Main",
            "-C",
            str(src / "classes"),
            ".",
        ],
        check=True,
    )
    JAR[:] = [jar]
    return jar


def app(*args: str, **extra: Any) -> dict[str, Any]:
    return {"jar_path": "local/app.jar", "args": list(args), **extra}


class TestJavaConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = JavaDriver()
        driver.set_config({})
        return driver

    def task_config(self, task_dir: Path, config: dict[str, Any], **env: str) -> TaskConfig:
        cfg = super().task_config(task_dir, config, **env)
        shutil.copy(JAR[0], task_dir / "local" / "app.jar")
        return cfg

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: app("exit", str(code)),
            echo=lambda text: app("echo", text),
            # -Xrs: the JVM leaves SIGTERM/SIGINT at their default, so the signal ends it
            sleep=lambda: app("sleep", jvm_options=["-Xrs"]),
            exec_echo=lambda text: ["/bin/echo", text],
        )


@pytest.fixture
def driver() -> JavaDriver:
    d = JavaDriver()
    d.set_config({})
    return d


def test_entry_point_registers_java() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["java"] is JavaDriver


def test_fingerprint_reports_the_jvm(driver: JavaDriver) -> None:
    fp = driver.fingerprint()
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    assert fp.attributes["driver.java.version"] in version.splitlines()[0]
    assert fp.attributes["driver.java.runtime"] == version.splitlines()[1]
    assert "VM" in fp.attributes["driver.java.vm"]


def test_parse_version_of_openjdk() -> None:
    out = (
        'openjdk version "17.0.15" 2025-04-15\n'
        "OpenJDK Runtime Environment (build 17)\n"
        "OpenJDK 64-Bit Server VM (build 17, mixed mode)\n"
    )
    assert parse_version(out)["driver.java.version"] == "17.0.15"


@pytest.mark.skipif(bool(isolation_problem()), reason=f"no isolation: {isolation_problem()}")
def test_jar_runs_isolated_as_nobody_with_args(driver: JavaDriver, tmp_path: Path) -> None:
    cfg = TestJavaConformance().task_config(tmp_path, app("echo", "hello", "from", "jar"))
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 60)
    assert result is not None and result.successful(), Path(cfg.stderr_path).read_text()
    assert Path(cfg.stdout_path).read_text() == "hello from jar\n"
    (tmp_path / "s").mkdir()
    sleeper = TestJavaConformance().task_config(tmp_path / "s", app("sleep"))
    driver.start_task(sleeper)
    try:
        who = driver.exec_task(
            sleeper.id, ["/bin/sh", "-c", "id -un; ls /proc | grep -c '^[0-9]'"], 10
        )
        name, count = who.stdout.decode().split()
        assert name == "nobody" and int(count) <= 6
    finally:
        driver.destroy_task(sleeper.id, force=True)


def test_class_and_class_path(driver: JavaDriver, tmp_path: Path) -> None:
    cfg = TestJavaConformance().task_config(
        tmp_path, {"class": "Main", "class_path": "local/app.jar", "args": ["echo", "by class"]}
    )
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 60)
    assert result is not None and result.successful(), Path(cfg.stderr_path).read_text()
    assert Path(cfg.stdout_path).read_text() == "by class\n"


def test_config_errors(driver: JavaDriver, tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="jar_path"):
        driver.start_task(TestJavaConformance().task_config(tmp_path, {"args": ["x"]}))
    with pytest.raises(DriverError, match="jar_pth"):
        driver.start_task(TestJavaConformance().task_config(tmp_path, {"jar_pth": "x"}))
    with pytest.raises(ConfigError):
        JavaDriver().set_config({"enabled": True})
