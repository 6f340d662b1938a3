"""PluginManager: finds plugins, one at a time, and collects the task drivers they register.

Entry points of group ``nomadic`` are loaded individually (unlike pluggy's own loader, which
stops at the first broken plugin): a plugin that fails to import or whose hook raises is
logged and listed in :attr:`PluginManager.broken`, and the client reports it as an undetected
driver with the error as its health description. Two plugins registering the same driver
name is a :class:`~nomadic.errors.ConfigError` naming both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from nomadic.errors import ConfigError

from . import hookspecs
from .driver import TaskDriver

__all__ = ["BrokenPlugin", "PluginManager"]

log = logging.getLogger("nomadic.plugin")

ENTRY_POINT_GROUP = "nomadic"


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be loaded or whose hook failed."""

    name: str
    source: str
    error: str


class PluginManager:
    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._sources: dict[str, str] = {}  # pluggy plugin name -> where it came from
        self.broken: list[BrokenPlugin] = []

    def register(self, plugin: Any, name: str, source: str = "") -> None:
        """Register a plugin object (module or instance with ``@hookimpl`` functions)."""
        self._pm.register(plugin, name=name)
        self._sources[name] = source or f"plugin {name!r}"

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Load every entry point of ``group``; broken ones are recorded, not raised."""
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            source = f"entry point {ep.name!r} ({ep.value}) of {ep.dist.name if ep.dist else '?'}"
            if self._pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                self.register(plugin, ep.name, source)
            except Exception as exc:  # a third party's import error must not stop the agent
                self._broken(ep.name, source, f"failed to load: {type(exc).__name__}: {exc}")

    def drivers(self) -> dict[str, type[TaskDriver]]:
        """Driver name -> class, over every registered plugin. Raises ConfigError on
        duplicate names; plugins whose hook fails are recorded in :attr:`broken`."""
        found: dict[str, type[TaskDriver]] = {}
        origin: dict[str, str] = {}
        for impl in self._pm.hook.nomadic_register_drivers.get_hookimpls():
            source = self._sources.get(impl.plugin_name, impl.plugin_name)
            try:
                result: Any = impl.function()
                classes = list(result)
            except Exception as exc:
                self._broken(impl.plugin_name, source, f"nomadic_register_drivers failed: {exc}")
                continue
            for cls in classes:
                if not (isinstance(cls, type) and issubclass(cls, TaskDriver)) or not cls.name:
                    self._broken(
                        impl.plugin_name,
                        source,
                        f"registered {cls!r}, which is not a TaskDriver subclass with a name",
                    )
                    continue
                if cls.name in found and found[cls.name] is not cls:
                    raise ConfigError(
                        f"driver name {cls.name!r} is registered twice: by {origin[cls.name]} "
                        f"and by {source}; uninstall or rename one of them"
                    )
                found[cls.name] = cls
                origin[cls.name] = source
        return found

    def undetected(self) -> dict[str, str]:
        """Broken plugin name -> error, for the node's driver list."""
        return {b.name: b.error for b in self.broken}

    def _broken(self, name: str, source: str, error: str) -> None:
        if any(b.name == name and b.error == error for b in self.broken):
            return
        log.error("%s is broken: %s", source, error)
        self.broken.append(BrokenPlugin(name=name, source=source, error=error))
