"""``nomadic job stop [-purge] [-global] [-detach] <job>``: stop a job (and optionally purge it);
``-global`` stops a multiregion job in every region it runs in."""

from __future__ import annotations

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_job

__all__ = ["stop"]


@click.command()
@click.argument("job_id", metavar="<job>")
@click.option("--purge", is_flag=True, help="Remove the job from the state, not only stop it.")
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option(
    "--global", "global_", is_flag=True, help="Stop a multiregion job in all its regions."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (accepted for Nomad).")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def stop(
    ctx: click.Context,
    job_id: str,
    purge: bool,
    detach: bool,
    global_: bool,
    yes: bool,
    verbose: bool,
) -> None:
    """Stop a running job; its allocations are stopped and not replaced."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        job = resolve_job(client, job_id)
        resp = client.jobs.deregister(job.id, purge=purge, global_=global_)
    except APIError as exc:
        raise CommandError(f"Error deregistering job: {exc}") from None
    if not resp.eval_id:
        return
    if detach:
        out.line(resp.eval_id)
        return
    try:
        ctx.exit(monitor_eval(client, resp.eval_id, verbose))
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
