"""``nomadic alloc restart [-task t] [-all-tasks] [-verbose] <alloc> [task]``.

Restarts tasks in place on their client: a "Restart Signaled" event, then the task is stopped
and started again at once. A user restart does not count against the restart policy.
Without a task the running tasks restart; ``-all-tasks`` asks for every task.
"""

from __future__ import annotations

import click

from nomadic.cli.alloc.signal import validate_task
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError
from nomadic.cli.resolve import resolve_alloc

__all__ = ["restart"]


@click.command()
@click.argument("alloc_id", metavar="<alloc>")
@click.argument("task_arg", metavar="[<task>]", required=False)
@click.option("--task", "task_opt", default=None, help="The task to restart.")
@click.option("--all-tasks", is_flag=True, help="Restart every task, not only running ones.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def restart(
    ctx: click.Context,
    alloc_id: str,
    task_arg: str | None,
    task_opt: str | None,
    all_tasks: bool,
    verbose: bool,
) -> None:
    """Restart the tasks of a running allocation in place."""
    from nomadic.api import APIError

    task = task_opt or task_arg or ""
    if all_tasks and task:
        raise CommandError("The -all-tasks option is not allowed when restarting a specific task.")
    client = client_from(ctx)
    try:
        alloc = resolve_alloc(client, alloc_id)
    except APIError as exc:
        raise CommandError(f"Error querying allocation: {exc}") from None
    if task:
        validate_task(alloc, task)
    try:
        client.allocations.restart(alloc.id, task, all_tasks=all_tasks)
    except APIError as exc:
        target = "task" if task else "allocation"
        raise CommandError(f"Failed to restart {target}:\n\n{exc}") from None
