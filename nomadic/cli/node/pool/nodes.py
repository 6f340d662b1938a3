"""``nomadic node pool nodes [-json] [-verbose] <name>``: the nodes in a pool (``all``:
every node)."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id

__all__ = ["nodes"]


@click.command()
@click.argument("name", metavar="<node-pool>")
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
@click.option("--verbose", is_flag=True, help="Show full node IDs.")
@api_options
@click.pass_context
def nodes(ctx: click.Context, name: str, as_json: bool, verbose: bool) -> None:
    """List the nodes in a node pool."""
    from nomadic.api import APIError

    try:
        stubs = client_from(ctx).node_pools.nodes(name)
    except APIError as exc:
        if exc.status == 404:
            raise CommandError(f'Node pool "{name}" not found') from None
        raise CommandError(f"Error querying nodes: {exc}") from None
    if as_json:
        out.json(stubs)
        return
    if not stubs:
        out.line(f'No nodes in node pool "{name}"')
        return
    out.table(
        ("ID", "Node Pool", "DC", "Name", "Class", "Drain", "Eligibility", "Status"),
        [
            (
                short_id(n.id, verbose),
                n.node_pool,
                n.datacenter,
                n.name,
                n.node_class or "<none>",
                str(n.drain).lower(),
                n.scheduling_eligibility,
                n.status,
            )
            for n in stubs
        ],
    )
