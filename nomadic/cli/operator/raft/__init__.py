"""``nomadic operator raft <verb>``."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["raft"]

VERBS: dict[str, tuple[str, str]] = {
    "list-peers": ("nomadic.cli.operator.raft.list_peers:list_peers", "Display the Raft peers"),
    "remove-peer": (
        "nomadic.cli.operator.raft.remove_peer:remove_peer",
        "Remove a Nomad server from the Raft configuration",
    ),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def raft() -> None:
    """Provides access to the Raft subsystem: list-peers, remove-peer."""
