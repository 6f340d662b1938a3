"""``nomadic deployment status [-verbose] [-json] <deployment>``."""

from __future__ import annotations

import click

from nomadic.cli.deployment.format import print_deployment, resolve_deployment
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["status"]


@click.command("status")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--json", "as_json", is_flag=True, help="Output the deployment as JSON.")
@click.argument("deployment_id")
@api_options
@click.pass_context
def status(ctx: click.Context, verbose: bool, as_json: bool, deployment_id: str) -> None:
    """Display the status of a deployment: its groups' desired, placed and healthy counts."""
    from nomadic.api import APIError

    try:
        d = resolve_deployment(client_from(ctx), deployment_id)
    except APIError as exc:
        raise CommandError(f"Error retrieving deployment: {exc}") from None
    if as_json:
        out.json(d)
        return
    print_deployment(d, verbose)
