"""``nomadic job run [-detach] [-var k=v] [-var-file f] <file>``: submit a job, then monitor it.

Exit codes as Nomad's: 0 placed, 2 placement problems, 1 any other error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.job.jobfile import load_job
from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_for_job
from nomadic.cli.output import CommandError, format_time, out

if TYPE_CHECKING:
    from nomadic.structs import Job

__all__ = ["run"]


@click.command()
@click.argument("path", metavar="<path>")
@click.option("--detach", is_flag=True, help="Return right after submitting, with the eval ID.")
@click.option("--var", "var_args", multiple=True, metavar="key=value", help="Set an HCL variable.")
@click.option("--var-file", "var_files", multiple=True, metavar="file", help="HCL2 variables file.")
@click.option(
    "--check-index", type=int, default=None, help="Register only if JobModifyIndex matches."
)
@click.option("--json", "as_json", is_flag=True, help="The file is JSON (detected anyway).")
@click.option("--output", is_flag=True, help="Print the job as API JSON instead of running it.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def run(
    ctx: click.Context,
    path: str,
    detach: bool,
    var_args: tuple[str, ...],
    var_files: tuple[str, ...],
    check_index: int | None,
    as_json: bool,
    output: bool,
    verbose: bool,
) -> None:
    """Run a new job or update an existing one from a job file (HCL2 or JSON)."""
    from nomadic.api import APIError

    job = load_job(path, var_args, var_files)
    if output:
        out.json({"Job": job})
        return
    client = client_for_job(ctx, job.region, job.multiregion is not None)
    try:
        resp = client.jobs.register(
            job, enforce_index=check_index is not None, modify_index=check_index or 0
        )
    except APIError as exc:
        raise CommandError(f"Error submitting job: {exc}") from None
    if resp.warnings:
        out.line(f"Job Warnings:\n{resp.warnings}\n")
    if not resp.eval_id:  # periodic and parameterized jobs are not evaluated on submit
        out.line("Job registration successful")
        _next_launch(job)
        return
    if detach or job.multiregion is not None:  # Nomad does not monitor multiregion jobs
        out.line("Job registration successful")
        out.line(f"Evaluation ID: {resp.eval_id}")
        return
    try:
        code = monitor_eval(client, resp.eval_id, verbose)
        deployment_id = client.evaluations.info(resp.eval_id).deployment_id
        if code == 0 and deployment_id:  # Nomad follows a service job's deployment next
            from nomadic.cli.deployment.format import monitor_deployment

            out.line()
            code = monitor_deployment(client, deployment_id, verbose)
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
    ctx.exit(code)


def _next_launch(job: Job) -> None:
    """Nomad's "Approximate next launch time" line after registering a periodic job."""
    import time

    from nomadic.structs.periodic import next_launch

    if job.periodic is None or not job.is_periodic() or job.is_parameterized():
        return
    now = time.time_ns()
    due = next_launch(job.periodic, now)
    if due:
        left = max(0, round((due - now) / 1e9))
        out.line(f"Approximate next launch time: {format_time(due)} ({left}s from now)")
