"""``nomadic node pool list [-json]``: every node pool and its description."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["list_pools"]


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the node pools as JSON.")
@api_options
@click.pass_context
def list_pools(ctx: click.Context, as_json: bool) -> None:
    """List node pools."""
    from nomadic.api import APIError

    try:
        pools = client_from(ctx).node_pools.list()
    except APIError as exc:
        raise CommandError(f"Error retrieving node pools: {exc}") from None
    if as_json:
        out.json(pools)
        return
    out.table(("Name", "Description"), [(p.name, p.description) for p in pools])
