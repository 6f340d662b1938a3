"""``nomadic job validate <file>``: check a job file, on the agent when one answers."""

from __future__ import annotations

import click

from nomadic.cli.job.jobfile import load_job
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["validate"]


@click.command()
@click.argument("path", metavar="<path>")
@click.option("--var", "var_args", multiple=True, metavar="key=value", help="Set an HCL variable.")
@click.option("--var-file", "var_files", multiple=True, metavar="file", help="HCL2 variables file.")
@api_options
@click.pass_context
def validate(
    ctx: click.Context, path: str, var_args: tuple[str, ...], var_files: tuple[str, ...]
) -> None:
    """Parse and validate a job file without running it (locally if no agent answers)."""
    from nomadic.api import APIError

    job = load_job(path, var_args, var_files)
    try:
        errors = client_from(ctx).jobs.validate(job).validation_errors
    except APIError as exc:
        if exc.status:
            raise CommandError(f"Error validating job: {exc}") from None
        from nomadic.structs import canonicalize
        from nomadic.structs import validate as validate_job

        errors = validate_job(canonicalize(job))
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        listed = "\n".join(f"\t* {e}" for e in errors)
        raise CommandError(f"Job validation errors:\n{len(errors)} {noun} occurred:\n{listed}")
    out.line("Job validation successful")
