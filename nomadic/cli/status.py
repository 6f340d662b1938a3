"""``nomadic status [<id>]``: the job list, or whatever job, allocation, evaluation, node or
deployment the ID (or unique prefix) names, as Nomad's top-level ``status`` does."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError

__all__ = ["status"]


@click.command()
@click.argument("ident", metavar="[<id>]", required=False)
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def status(ctx: click.Context, ident: str | None, verbose: bool) -> None:
    """List jobs, or show the job, allocation, evaluation, node or deployment an ID names."""
    from nomadic.api import APIError
    from nomadic.cli import resolve
    from nomadic.cli.job.status import list_jobs, show_job

    client = client_from(ctx)
    try:
        if ident is None:
            list_jobs(client)
        elif client.jobs.list(prefix=ident):
            show_job(client, resolve.resolve_job(client, ident), verbose)
        elif len(ident) >= 2 and client.allocations.list(prefix=ident[: len(ident) // 2 * 2]):
            from nomadic.cli.alloc.status import show_alloc

            show_alloc(resolve.resolve_alloc(client, ident), verbose)
        elif len(ident) >= 2 and client.evaluations.list(prefix=ident[: len(ident) // 2 * 2]):
            from nomadic.cli.eval.status import show_eval

            show_eval(resolve.resolve_eval(client, ident), verbose)
        elif len(ident) >= 2 and client.nodes.list(prefix=ident[: len(ident) // 2 * 2]):
            from nomadic.cli.node.status import show_node

            show_node(client, resolve.resolve_node(client, ident), verbose)
        elif len(ident) >= 2 and client.deployments.list(prefix=ident[: len(ident) // 2 * 2]):
            from nomadic.cli.deployment.format import print_deployment, resolve_deployment

            print_deployment(resolve_deployment(client, ident), verbose)
        else:
            raise CommandError(f'No matches returned for query "{ident}"')
    except APIError as exc:
        raise CommandError(f"Error querying status: {exc}") from None
