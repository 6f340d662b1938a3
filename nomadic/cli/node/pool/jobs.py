"""``nomadic node pool jobs [-json] <name>``: the jobs that use a pool, in every namespace."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, format_time, out

__all__ = ["jobs"]


@click.command()
@click.argument("name", metavar="<node-pool>")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@api_options
@click.pass_context
def jobs(ctx: click.Context, name: str, as_json: bool) -> None:
    """List the jobs in a node pool."""
    from nomadic.api import APIError

    try:
        stubs = client_from(ctx).node_pools.jobs(name)
    except APIError as exc:
        if exc.status == 404:
            raise CommandError(f'Node pool "{name}" not found') from None
        raise CommandError(f"Error querying jobs: {exc}") from None
    if as_json:
        out.json(stubs)
        return
    if not stubs:
        out.line(f'No jobs in node pool "{name}"')
        return
    out.table(
        ("ID", "Namespace", "Type", "Priority", "Status", "Submit Date"),
        [
            (j.id, j.namespace, j.type, j.priority, j.status, format_time(j.submit_time))
            for j in stubs
        ],
    )
