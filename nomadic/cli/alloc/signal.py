"""``nomadic alloc signal [-s SIG] [-task t] [-verbose] <alloc> [task]``: signal its tasks.

Without a task every task of the allocation receives the signal; the default signal is
SIGKILL, as in Nomad. Each task records a "Signaling" event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError
from nomadic.cli.resolve import resolve_alloc

if TYPE_CHECKING:
    from nomadic.structs import Allocation

__all__ = ["signal_command", "validate_task"]


def validate_task(alloc: Allocation, task: str) -> None:
    """Nomad's ``validateTaskExistsInAllocation``: the task must be in the alloc's group."""
    group = alloc.job.lookup_task_group(alloc.task_group) if alloc.job else None
    if group is None:
        raise CommandError(f"Could not find allocation task group: {alloc.task_group}")
    names = [t.name for t in group.tasks]
    if task not in names:
        found = "\n".join(names)
        raise CommandError(f"Could not find task named: {task}, found:\n{found}")


@click.command("signal")
@click.argument("alloc_id", metavar="<alloc>")
@click.argument("task_arg", metavar="[<task>]", required=False)
@click.option("-s", "signal", default="SIGKILL", show_default=True, help="The signal to send.")
@click.option("--task", "task_opt", default=None, help="The task to signal (default: all).")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def signal_command(
    ctx: click.Context,
    alloc_id: str,
    task_arg: str | None,
    signal: str,
    task_opt: str | None,
    verbose: bool,
) -> None:
    """Send a signal to the tasks of a running allocation."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        alloc = resolve_alloc(client, alloc_id)
    except APIError as exc:
        raise CommandError(f"Error querying allocation: {exc}") from None
    task = task_opt or task_arg or ""
    if task:
        validate_task(alloc, task)
    try:
        client.allocations.signal(alloc.id, signal, task)
    except APIError as exc:
        raise CommandError(f"Error signalling allocation: {exc}") from None
