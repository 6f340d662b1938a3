"""``nomadic job scale [-detach] <job> [<group>] <count>``: set a task group's count."""

from __future__ import annotations

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_job

__all__ = ["scale"]


@click.command()
@click.argument("args", metavar="<job> [<group>] <count>", nargs=-1, required=True)
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def scale(ctx: click.Context, args: tuple[str, ...], detach: bool, verbose: bool) -> None:
    """Change the count of a task group (the group may be left out if the job has one)."""
    from nomadic.api import APIError

    if len(args) not in (2, 3):
        raise CommandError("This command takes two or three arguments: <job> [<group>] <count>")
    try:
        count = int(args[-1])
    except ValueError:
        raise CommandError(f"Failed to parse count value {args[-1]!r}: not a number") from None
    client = client_from(ctx)
    try:
        job = resolve_job(client, args[0])
        if len(args) == 3:
            group = args[1]
        elif len(job.task_groups) == 1:
            group = job.task_groups[0].name
        else:
            raise CommandError(
                "Group name required: the job has several groups "
                f"({', '.join(tg.name for tg in job.task_groups)})"
            )
        resp = client.jobs.scale(job.id, group, count)
    except APIError as exc:
        raise CommandError(f"Error submitting scaling request: {exc}") from None
    if detach or not resp.eval_id:
        out.line(f"Evaluation ID: {resp.eval_id}")
        return
    try:
        ctx.exit(monitor_eval(client, resp.eval_id, verbose))
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
