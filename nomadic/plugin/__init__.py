"""Plugins: the hookspecs, the plugin manager and the TaskDriver API that drivers implement.

A third-party driver needs only this package and ``nomadic.structs``::

    from nomadic.plugin import TaskDriver, hookimpl

    class MyDriver(TaskDriver):
        name = "mine"
        ...

    @hookimpl
    def nomadic_register_drivers():
        return [MyDriver]

and an entry point ``[project.entry-points.nomadic] mine = "my_module"``.
"""

from __future__ import annotations

from nomadic.errors import ConfigError, DriverError

from .driver import TaskDriver
from .exec import ExecInput, ExecStreams, run_process_exec
from .hookspecs import hookimpl, hookspec
from .manager import BrokenPlugin, PluginManager
from .records import (
    Capabilities,
    CpuStats,
    ExecResult,
    ExitResult,
    Fingerprint,
    MemoryStats,
    MountConfig,
    ResourceUsage,
    TaskConfig,
    TaskHandle,
    TaskResourceUsage,
    TaskStatus,
)
from .tasks import TaskTable, destroy_guard

__all__ = [
    "BrokenPlugin",
    "Capabilities",
    "ConfigError",
    "CpuStats",
    "DriverError",
    "ExecInput",
    "ExecResult",
    "ExecStreams",
    "ExitResult",
    "Fingerprint",
    "MemoryStats",
    "MountConfig",
    "PluginManager",
    "ResourceUsage",
    "TaskConfig",
    "TaskDriver",
    "TaskHandle",
    "TaskResourceUsage",
    "TaskStatus",
    "TaskTable",
    "destroy_guard",
    "hookimpl",
    "hookspec",
    "run_process_exec",
]
