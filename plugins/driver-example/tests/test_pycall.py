"""The example driver passes the same conformance suite as the first-party drivers, and is
found through its entry point like any installed third-party plugin."""

from __future__ import annotations

from pathlib import Path

import pytest
from nomadic_driver_example import PyCallDriver

from nomadic.errors import DriverError
from nomadic.plugin import PluginManager, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

DEMO = "nomadic_driver_example.demo"


class TestPyCallConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        return PyCallDriver()

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: {"callable": f"{DEMO}:exit_with", "args": [str(code)]},
            echo=lambda text: {"callable": "builtins:print", "args": [text]},
            sleep=lambda: {"callable": f"{DEMO}:sleep", "args": ["600"]},
            exec_echo=lambda text: ["/bin/echo", text],
        )


def test_installed_plugin_is_found_by_its_entry_point() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["pycall"] is PyCallDriver
    assert not pm.broken


def test_bad_callable_is_a_clear_error(tmp_path: Path) -> None:
    cfg = TestPyCallConformance().task_config(tmp_path, {"callable": "no_colon"})
    with pytest.raises(DriverError, match='callable = "module:function"'):
        PyCallDriver().start_task(cfg)


def test_exception_in_the_function_fails_the_task_with_its_traceback(tmp_path: Path) -> None:
    cfg = TestPyCallConformance().task_config(tmp_path, {"callable": "json:loads", "args": ["{"]})
    driver = PyCallDriver()
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 30)
    assert result is not None and result.exit_code == 1
    assert "JSONDecodeError" in Path(cfg.stderr_path).read_text()


def test_optional_calls_default_to_not_supported() -> None:
    """What the TaskDriver base class gives a minimal driver for free."""

    class Minimal(PyCallDriver):
        name = "minimal"
        task_stats = TaskDriver.task_stats
        exec_task = TaskDriver.exec_task

    with pytest.raises(DriverError, match="task_stats is not supported by driver 'minimal'"):
        Minimal().task_stats("x")
    with pytest.raises(DriverError, match="exec_task is not supported"):
        Minimal().exec_task("x", ["true"], 1.0)
