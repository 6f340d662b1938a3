"""``nomadic server <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["server"]

VERBS: dict[str, tuple[str, str]] = {
    "force-leave": (
        "nomadic.cli.server.force_leave:force_leave",
        "Force a server into the 'left' state",
    ),
    "join": ("nomadic.cli.server.join:join", "Join server nodes together"),
    "members": ("nomadic.cli.server.members:members", "Display a list of the known servers"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def server() -> None:
    """Interact with servers: force-leave, join, members."""
