"""JavaDriver: runs a jar or a main class with the host's JVM (Nomad's java driver).

Task config: ``jar_path`` (relative to the task dir, e.g. ``local/app.jar``) or ``class`` with
``class_path``; ``jvm_options`` (a list, before the jar/class) and ``args`` (after it). The JVM
runs under the exec driver's isolation (chroot, namespaces, cgroups, user ``nobody``) when the
client can isolate; otherwise it runs on the host, and the fingerprint says why.

Fingerprint: ``driver.java`` plus ``driver.java.version``, ``.runtime`` and ``.vm`` parsed from
``java -version``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from nomadic_driver_exec import IsolatedDriver, Isolation, isolation_problem

from nomadic.plugin import ConfigError, DriverError, Fingerprint, TaskConfig

TASK_KEYS = {"jar_path", "class", "class_path", "jvm_options", "args"}


def parse_version(output: str) -> dict[str, str]:
    """``java -version`` output -> Nomad's ``driver.java.*`` attributes."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Picked up")]
    if len(lines) < 3 or '"' not in lines[0]:
        return {}
    return {
        "driver.java": "1",
        "driver.java.version": lines[0].split('"')[1],
        "driver.java.runtime": lines[1],
        "driver.java.vm": lines[2],
    }


class JavaDriver(IsolatedDriver):
    name = "java"

    def __init__(self) -> None:
        super().__init__()
        self.java = ""

    def set_config(self, config: dict[str, Any]) -> None:
        if config:
            raise ConfigError(
                f'plugin "java": unknown config key(s) {", ".join(sorted(config))}; '
                "the java driver takes no plugin config"
            )
        super().set_config(config)

    def fingerprint(self) -> Fingerprint:
        java = shutil.which("java")
        if java is None:
            return Fingerprint(health_description="no java binary on the client's PATH")
        try:
            done = subprocess.run(
                [java, "-version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Fingerprint(health_description=f"{java} -version failed: {exc}")
        attributes = parse_version(done.stderr or done.stdout)
        if done.returncode != 0 or not attributes:
            return Fingerprint(
                detected=True, health_description=f"cannot parse `{java} -version` output"
            )
        self.java = java
        problem = isolation_problem()
        health = f"Healthy; tasks run unisolated: {problem}" if problem else "Healthy"
        return Fingerprint(
            detected=True, healthy=True, health_description=health, attributes=attributes
        )

    def task_command(self, config: TaskConfig) -> tuple[list[str], str, Isolation]:
        cfg = config.config
        unknown = sorted(set(cfg) - TASK_KEYS)
        if unknown:
            raise DriverError(
                f"task {config.name!r}: unknown java config key(s) {', '.join(unknown)}; "
                f"valid keys: {', '.join(sorted(TASK_KEYS))}"
            )
        java = self.java or shutil.which("java")
        if not java:
            raise DriverError(f"task {config.name!r}: no java binary on this client")
        argv = [java, *self._strings(cfg, "jvm_options", config.name)]
        jar, main = cfg.get("jar_path"), cfg.get("class")
        if jar and main:
            raise DriverError(f"task {config.name!r}: set jar_path or class, not both")
        if jar:
            argv += ["-jar", str(jar)]
        elif main:
            if cfg.get("class_path"):
                argv += ["-cp", str(cfg["class_path"])]
            argv.append(str(main))
        else:
            raise DriverError(
                f'task {config.name!r}: java needs config {{ jar_path = "local/app.jar" }} '
                'or { class = "Main" }'
            )
        argv += self._strings(cfg, "args", config.name)
        if isolation_problem():
            host_dir = os.path.dirname(config.task_dir) if config.task_dir else os.getcwd()
            return argv, host_dir, Isolation(enabled=False)
        return argv, "/", Isolation()

    @staticmethod
    def _strings(cfg: dict[str, Any], key: str, task: str) -> list[str]:
        value = cfg.get(key, [])
        if not isinstance(value, list):
            raise DriverError(f"task {task!r}: config {key} must be a list of strings")
        return [str(v) for v in value]
