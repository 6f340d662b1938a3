"""The java task driver plugin, registered through the ``nomadic`` entry point group.
It runs the JVM under the exec driver's isolation (``nomadic_driver_exec``)."""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import JavaDriver, parse_version

__all__ = ["JavaDriver", "nomadic_register_drivers", "parse_version"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """java: run a jar or main class with the host's JVM, isolated like exec."""
    return [JavaDriver]
