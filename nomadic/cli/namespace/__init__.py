"""``nomadic namespace <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["namespace"]

VERBS: dict[str, tuple[str, str]] = {
    "apply": ("nomadic.cli.namespace.apply:apply", "Create or update a namespace"),
    "delete": ("nomadic.cli.namespace.delete:delete", "Delete a namespace"),
    "list": ("nomadic.cli.namespace.list_:list_namespaces", "List namespaces"),
    "status": ("nomadic.cli.namespace.status:status", "Display a namespace's status"),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def namespace() -> None:
    """Interact with namespaces: apply, list, status, delete."""
