"""``nomadic deployment list [-verbose] [-json]``: every deployment, newest first."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id

__all__ = ["list_deployments"]


@click.command("list")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--json", "as_json", is_flag=True, help="Output the deployments as JSON.")
@api_options
@click.pass_context
def list_deployments(ctx: click.Context, verbose: bool, as_json: bool) -> None:
    """List deployments."""
    from nomadic.api import APIError

    try:
        found = client_from(ctx).deployments.list()
    except APIError as exc:
        raise CommandError(f"Error retrieving deployments: {exc}") from None
    found.sort(key=lambda d: d.create_index, reverse=True)
    if as_json:
        out.json(found)
        return
    if not found:
        out.line("No deployments found")
        return
    rows = [
        (short_id(d.id, verbose), d.job_id, d.job_version, d.status, d.status_description)
        for d in found
    ]
    out.table(("ID", "Job ID", "Job Version", "Status", "Description"), rows)
