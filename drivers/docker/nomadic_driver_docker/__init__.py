"""The docker task driver plugin: registered through the ``nomadic`` entry point group.

Importing this module is cheap: the docker SDK is imported only when the driver first talks
to dockerd, so an agent without docker starts as fast and reports the driver undetected.
"""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import DockerDriver

__all__ = ["DockerDriver", "nomadic_register_drivers"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """docker: run a task as a container through a local dockerd."""
    return [DockerDriver]
