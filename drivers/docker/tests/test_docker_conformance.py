"""The docker driver runs the shared driver conformance suite against a real dockerd."""

from __future__ import annotations

import pytest
from docker_env import IMAGE, REASON
from nomadic_driver_docker import DockerDriver

from nomadic.plugin import TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

if REASON:
    pytest.skip(REASON, allow_module_level=True)


def sh(script: str) -> dict[str, object]:
    return {"image": IMAGE, "command": "/bin/sh", "args": ["-c", script]}


class TestDockerConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = DockerDriver()
        driver.set_config({"gc": {"image": False}})
        return driver

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: sh(f"exit {code}"),
            echo=lambda text: {"image": IMAGE, "command": "echo", "args": [text]},
            # PID 1 ignores SIGTERM unless it installs a handler: docker's init forwards it.
            sleep=lambda: {"image": IMAGE, "command": "sleep", "args": ["600"], "init": True},
            exec_echo=lambda text: ["echo", text],
        )
