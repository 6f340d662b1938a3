"""``nomadic operator scheduler <verb>``: read and change the scheduler configuration."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["scheduler"]

VERBS: dict[str, tuple[str, str]] = {
    "get-config": (
        "nomadic.cli.operator.scheduler.get_config:get_config",
        "Display the current scheduler configuration",
    ),
    "set-config": (
        "nomadic.cli.operator.scheduler.set_config:set_config",
        "Modify the current scheduler configuration",
    ),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def scheduler() -> None:
    """Provides access to the scheduler configuration: get-config, set-config."""
