"""``nomadic alloc <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["alloc"]

VERBS: dict[str, tuple[str, str]] = {
    "exec": ("nomadic.cli.alloc.exec:exec_command", "Execute commands in task"),
    "logs": ("nomadic.cli.alloc.logs:logs", "Streams the logs of a task"),
    "restart": ("nomadic.cli.alloc.restart:restart", "Restart a running allocation"),
    "signal": ("nomadic.cli.alloc.signal:signal_command", "Signal a running allocation"),
    "status": ("nomadic.cli.alloc.status:status", "Display allocation status information"),
    "stop": ("nomadic.cli.alloc.stop:stop", "Stop and reschedule a running allocation"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def alloc() -> None:
    """Interact with allocations: status, logs, exec, signal, restart, stop."""
