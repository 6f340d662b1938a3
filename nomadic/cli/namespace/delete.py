"""``nomadic namespace delete <name>``: refused for ``default`` and while jobs still run."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["delete"]


@click.command()
@click.argument("name", metavar="<namespace>")
@api_options
@click.pass_context
def delete(ctx: click.Context, name: str) -> None:
    """Delete a namespace."""
    from nomadic.api import APIError

    try:
        client_from(ctx).namespaces.delete(name)
    except APIError as exc:
        raise CommandError(f"Error deleting namespace: {exc}") from None
    out.line(f'Successfully deleted namespace "{name}"!')
