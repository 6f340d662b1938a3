"""The exec task driver plugin (isolated fork/exec), registered through the ``nomadic`` entry
point group. :mod:`.isolation` is shared with the java driver."""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import ExecDriver
from .isolation import IsolatedDriver
from .sandbox import Isolation, isolation_problem

__all__ = [
    "ExecDriver",
    "IsolatedDriver",
    "Isolation",
    "isolation_problem",
    "nomadic_register_drivers",
]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """exec: run a command isolated in namespaces, a chroot and cgroups."""
    return [ExecDriver]
