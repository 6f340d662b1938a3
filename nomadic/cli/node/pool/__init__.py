"""``nomadic node pool <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["pool"]

VERBS: dict[str, tuple[str, str]] = {
    "apply": ("nomadic.cli.node.pool.apply:apply", "Create or update a node pool"),
    "delete": ("nomadic.cli.node.pool.delete:delete", "Delete a node pool"),
    "info": ("nomadic.cli.node.pool.info:info", "Fetch information on a node pool"),
    "jobs": ("nomadic.cli.node.pool.jobs:jobs", "List the jobs in a node pool"),
    "list": ("nomadic.cli.node.pool.list_:list_pools", "List node pools"),
    "nodes": ("nomadic.cli.node.pool.nodes:nodes", "List the nodes in a node pool"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def pool() -> None:
    """Interact with node pools: apply, list, info, delete, nodes, jobs."""
