"""The plugin manager: entry points one at a time, broken plugins reported, duplicates refused."""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import (
    ExitResult,
    Fingerprint,
    PluginManager,
    TaskConfig,
    TaskDriver,
    TaskHandle,
    TaskStatus,
    hookimpl,
    hookspecs,
)
from nomadic.plugin import manager as manager_module


class MinimalDriver(TaskDriver):
    name = "minimal"

    def fingerprint(self) -> Fingerprint:
        return Fingerprint(detected=True, healthy=True)

    def start_task(self, config: TaskConfig) -> TaskHandle:
        return TaskHandle(driver=self.name, task_id=config.id, config=config)

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        return ExitResult()

    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        return None

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        return None

    def inspect_task(self, task_id: str) -> TaskStatus:
        return TaskStatus(id=task_id, name="t")


class Plugin:
    def __init__(self, *classes: Any) -> None:
        self.classes = list(classes)

    @hookimpl
    def nomadic_register_drivers(self) -> list[Any]:
        return self.classes


def test_every_hook_is_documented() -> None:
    hooks = [
        f for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("nomadic_")
    ]
    assert hooks
    for hook in hooks:
        assert hook.__name__.startswith("nomadic_")
        assert inspect.getdoc(hook), f"{hook.__name__} has no docstring"


def test_registered_plugin_object_provides_drivers() -> None:
    pm = PluginManager()
    pm.register(Plugin(MinimalDriver), "mine")
    assert pm.drivers() == {"minimal": MinimalDriver}


def test_entry_points_include_raw_exec() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert "raw_exec" in pm.drivers()
    assert pm.broken == []


def test_duplicate_driver_names_are_an_error_naming_both() -> None:
    class Other(MinimalDriver):
        pass

    pm = PluginManager()
    pm.register(Plugin(MinimalDriver), "first", "plugin first")
    pm.register(Plugin(Other), "second", "plugin second")
    with pytest.raises(ConfigError) as info:
        pm.drivers()
    assert "'minimal'" in str(info.value)
    assert "plugin first" in str(info.value) and "plugin second" in str(info.value)


def test_hook_that_raises_is_reported_not_fatal() -> None:
    class Exploding:
        @hookimpl
        def nomadic_register_drivers(self) -> list[Any]:
            raise RuntimeError("kaput")

    pm = PluginManager()
    pm.register(Exploding(), "exploding")
    pm.register(Plugin(MinimalDriver), "mine")
    assert pm.drivers() == {"minimal": MinimalDriver}
    assert "kaput" in pm.undetected()["exploding"]


def test_non_driver_registration_is_reported() -> None:
    pm = PluginManager()
    pm.register(Plugin(object), "odd")
    assert pm.drivers() == {}
    assert "not a TaskDriver" in pm.undetected()["odd"]


def test_broken_entry_point_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint(name="aaa_broken", value="no_such_module_xyz", group="nomadic"),
        EntryPoint(name="raw_exec", value="nomadic_driver_raw_exec", group="nomadic"),
    ]
    monkeypatch.setattr(manager_module, "entry_points", lambda group: eps)
    pm = PluginManager()
    pm.load_entry_points()
    assert "raw_exec" in pm.drivers()
    assert "no_such_module_xyz" in pm.undetected()["aaa_broken"]


def test_minimal_driver_optional_calls_say_unsupported() -> None:
    d = MinimalDriver()
    with pytest.raises(DriverError, match="exec_task is not supported by driver 'minimal'"):
        d.exec_task("x", ["true"], 1.0)
    with pytest.raises(DriverError, match="not supported"):
        d.recover_task(
            TaskHandle(driver="minimal", task_id="x", config=TaskConfig(id="x", name="t"))
        )
