"""``nomadic node <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["node"]

VERBS: dict[str, tuple[str, str]] = {
    "status": ("nomadic.cli.node.status:status", "Display status information about nodes"),
    "drain": ("nomadic.cli.node.drain:drain", "Toggle drain mode on a given node"),
    "eligibility": (
        "nomadic.cli.node.eligibility:eligibility",
        "Toggle scheduling eligibility for a given node",
    ),
    "pool": ("nomadic.cli.node.pool:pool", "Interact with node pools"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def node() -> None:
    """Interact with client nodes: status, drain, eligibility, pools."""
