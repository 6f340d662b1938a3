"""``nomadic job plan [-diff] [-verbose] [-var k=v] [-var-file f] <file>``: a scheduler dry run.

Shows the diff to the registered job and what the scheduler would do, without changing
anything. Exit codes as Nomad's: 0 no allocation would be created or destroyed, 1 some would,
255 an error.
"""

from __future__ import annotations

import click

from nomadic.cli.job.jobfile import load_job
from nomadic.cli.job.plan_format import (
    JOB_MODIFY_INDEX_HELP,
    format_dry_run,
    format_job_diff,
    plan_exit_code,
)
from nomadic.cli.options import api_options, client_for_job
from nomadic.cli.output import CommandError, out

__all__ = ["plan"]

EXIT_ERROR = 255


@click.command()
@click.argument("path", metavar="<path>")
@click.option(
    "--diff",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Show the diff between the registered job and the planned one (-diff=false hides it).",
)
@click.option("--var", "var_args", multiple=True, metavar="key=value", help="Set an HCL variable.")
@click.option("--var-file", "var_files", multiple=True, metavar="file", help="HCL2 variables file.")
@click.option("--verbose", is_flag=True, help="Show every field of the diff.")
@api_options
@click.pass_context
def plan(
    ctx: click.Context,
    path: str,
    diff: bool,
    var_args: tuple[str, ...],
    var_files: tuple[str, ...],
    verbose: bool,
) -> None:
    """Dry-run a job update: what the scheduler would do, and the diff to the running job."""
    from nomadic.api import APIError

    try:
        job = load_job(path, var_args, var_files)
    except CommandError as exc:
        raise CommandError(exc.message, EXIT_ERROR) from None
    try:
        client = client_for_job(ctx, job.region, job.multiregion is not None)
        resp = client.jobs.plan(job, diff=diff)
    except APIError as exc:
        raise CommandError(f"Error during plan: {exc}", EXIT_ERROR) from None
    if diff and resp.diff is not None:
        out.line(format_job_diff(resp.diff, verbose).strip() + "\n")
    out.line("Scheduler dry-run:")
    out.line(format_dry_run(resp, job))
    out.line()
    if resp.warnings:
        out.line(f"Job Warnings:\n{resp.warnings}\n")
    out.line(f"Job Modify Index: {resp.job_modify_index}")
    out.line(JOB_MODIFY_INDEX_HELP.format(index=resp.job_modify_index, path=path))
    ctx.exit(plan_exit_code(resp))
