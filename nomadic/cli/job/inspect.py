"""``nomadic job inspect <job>``: the submitted job as ``{"Job": ...}`` JSON."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_job

__all__ = ["inspect"]


@click.command()
@click.argument("job_id", metavar="<job>")
@click.option("--json", "as_json", is_flag=True, help="Output JSON (the default; for Nomad).")
@api_options
@click.pass_context
def inspect(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Print the job as the servers store it, in Nomad's API JSON."""
    from nomadic.api import APIError

    try:
        job = resolve_job(client_from(ctx), job_id)
    except APIError as exc:
        raise CommandError(f"Error inspecting job: {exc}") from None
    out.json({"Job": job})
