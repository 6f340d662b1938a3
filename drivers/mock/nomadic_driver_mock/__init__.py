"""The mock task driver plugin (Nomad's ``mock_driver``): registered through the ``nomadic``
entry point group like any third-party driver. It runs no process; it exists for scheduler
tests and scale benchmarks."""

from __future__ import annotations

from nomadic.plugin import TaskDriver, hookimpl

from .driver import MockDriver, parse_duration

__all__ = ["MockDriver", "nomadic_register_drivers", "parse_duration"]


@hookimpl
def nomadic_register_drivers() -> list[type[TaskDriver]]:
    """mock: pretends to run tasks (run_for, exit_code, start_error, kill_after)."""
    return [MockDriver]
