"""nomadic-driver-example: the ``pycall`` task driver, a complete third-party driver plugin.

nomadic finds it through the entry point in this distribution's ``pyproject.toml``::

    [project.entry-points.nomadic]
    pycall = "nomadic_driver_example"

which names this module; pluggy calls the ``@hookimpl`` below when the agent starts.
``docs/driver-plugins.md`` walks through every part.
"""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import PyCallDriver

__all__ = ["PyCallDriver", "nomadic_register_drivers"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """pycall: run ``module:function`` with string arguments as a task."""
    return [PyCallDriver]
