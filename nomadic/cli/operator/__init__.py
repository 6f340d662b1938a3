"""``nomadic operator <verb>``: cluster-level tools (Raft peers, gossip-style keys)."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["operator"]

VERBS: dict[str, tuple[str, str]] = {
    "keygen": ("nomadic.cli.operator.keygen:keygen", "Generates a new encryption key"),
    "raft": ("nomadic.cli.operator.raft:raft", "Provides access to the Raft subsystem"),
    "scheduler": (
        "nomadic.cli.operator.scheduler:scheduler",
        "Provides access to the scheduler configuration",
    ),
    "snapshot": ("nomadic.cli.operator.snapshot:snapshot", "Saves and restores snapshots"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def operator() -> None:
    """Provides cluster-level tools for operators: keygen, raft, scheduler, snapshot."""
