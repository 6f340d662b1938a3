"""``nomadic operator snapshot <verb>``: save and restore the cluster's state."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["snapshot"]

VERBS: dict[str, tuple[str, str]] = {
    "save": ("nomadic.cli.operator.snapshot.save:save", "Saves a snapshot of the cluster state"),
    "restore": (
        "nomadic.cli.operator.snapshot.restore:restore",
        "Restores a snapshot into the cluster",
    ),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def snapshot() -> None:
    """Saves and restores snapshots of the cluster state: save, restore."""
