"""The hooks nomadic plugins implement, prefixed with the project name (pluggy hookspecs).

Phase: agent start-up (discovery). A plugin is any object or module with ``@hookimpl``
functions; third-party distributions expose one through the ``nomadic`` entry point group,
exactly as the first-party drivers do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .driver import TaskDriver

PROJECT = "nomadic"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """Return the TaskDriver classes this plugin provides.

    Each class's ``name`` attribute is the name jobs use in ``driver = "<name>"``. Names must
    be unique across every loaded plugin; a duplicate is a configuration error naming both
    plugins. Called once when the agent loads its plugins; do no heavy work here (detection
    belongs in ``TaskDriver.fingerprint``).
    """
    raise NotImplementedError
