"""``nomadic job revert [-detach] [-verbose] <job> <version>``: run an earlier version again."""

from __future__ import annotations

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_job

__all__ = ["revert"]


@click.command()
@click.argument("job_id", metavar="<job>")
@click.argument("version", metavar="<version>", type=int)
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def revert(ctx: click.Context, job_id: str, version: int, detach: bool, verbose: bool) -> None:
    """Revert a job to an earlier version (it is registered again as a new version)."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        job = resolve_job(client, job_id)
        resp = client.jobs.revert(job.id, version)
    except APIError as exc:
        raise CommandError(f"Error retrieving job versions: {exc}") from None
    if not resp.eval_id:
        return
    if detach:
        out.line(f"Evaluation ID: {resp.eval_id}")
        return
    try:
        ctx.exit(monitor_eval(client, resp.eval_id, verbose))
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
