"""``nomadic namespace list [-json]``: every namespace and its description."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["list_namespaces"]


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the namespaces as JSON.")
@api_options
@click.pass_context
def list_namespaces(ctx: click.Context, as_json: bool) -> None:
    """List namespaces."""
    from nomadic.api import APIError

    try:
        namespaces = client_from(ctx).namespaces.list()
    except APIError as exc:
        raise CommandError(f"Error retrieving namespaces: {exc}") from None
    if as_json:
        out.json(namespaces)
        return
    out.table(("Name", "Description"), [(ns.name, ns.description) for ns in namespaces])
