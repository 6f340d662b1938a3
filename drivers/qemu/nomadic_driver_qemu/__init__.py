"""The qemu task driver plugin, registered through the ``nomadic`` entry point group."""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import QemuDriver, parse_version

__all__ = ["QemuDriver", "nomadic_register_drivers", "parse_version"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """qemu: boot a virtual machine image with qemu-system-x86_64."""
    return [QemuDriver]
