"""The raw_exec task driver plugin: registered through the ``nomadic`` entry point group."""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import RawExecDriver

__all__ = ["RawExecDriver", "nomadic_register_drivers"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """raw_exec: run a command on the host with no isolation."""
    return [RawExecDriver]
