"""``nomadic node pool delete <name>``: refused for built-ins and pools still in use."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["delete"]


@click.command()
@click.argument("name", metavar="<node-pool>")
@api_options
@click.pass_context
def delete(ctx: click.Context, name: str) -> None:
    """Delete a node pool."""
    from nomadic.api import APIError

    try:
        client_from(ctx).node_pools.delete(name)
    except APIError as exc:
        raise CommandError(f"Error deleting node pool: {exc}") from None
    out.line(f'Successfully deleted node pool "{name}"!')
