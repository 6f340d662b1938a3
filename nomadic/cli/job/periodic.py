"""``nomadic job periodic force [-detach] <job>``: launch a periodic job's child right now."""

from __future__ import annotations

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_job

__all__ = ["periodic"]


@click.group()
def periodic() -> None:
    """Interact with periodic jobs."""


@periodic.command()
@click.argument("job_id", metavar="<job>")
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def force(ctx: click.Context, job_id: str, detach: bool, verbose: bool) -> None:
    """Launch the periodic job now, whatever its schedule and prohibit_overlap."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        job = resolve_job(client, job_id)
        if not job.is_periodic():
            raise CommandError(f'Job "{job.id}" is not periodic')
        resp = client.jobs.periodic_force(job.id)
    except APIError as exc:
        raise CommandError(f"Error forcing periodic job {job_id!r}: {exc}") from None
    if detach:
        out.line("Force periodic successful")
        out.line(f"Evaluation ID: {resp.eval_id}")
        return
    try:
        ctx.exit(monitor_eval(client, resp.eval_id, verbose))
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
