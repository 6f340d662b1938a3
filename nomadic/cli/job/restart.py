"""``nomadic job restart [-batch-size n] [-batch-wait d] [-task t] [-all-tasks] [-yes] <job>``:
restart the tasks of a job's running allocations in place, a batch at a time; each batch must
be running again (every task's restart counted) before the next one starts."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id
from nomadic.cli.resolve import resolve_job

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import AllocListStub

__all__ = ["restart"]

RESTART_TIMEOUT = 120.0  # seconds a batch may take to be running again


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _restarts(client: Client, alloc_id: str) -> tuple[str, int]:
    alloc = client.allocations.info(alloc_id)
    return alloc.client_status, sum(s.restarts for s in alloc.task_states.values())


def _wait_restarted(client: Client, before: dict[str, int]) -> None:
    deadline = time.monotonic() + RESTART_TIMEOUT
    pending = dict(before)
    while pending:
        for alloc_id, count in list(pending.items()):
            status, now = _restarts(client, alloc_id)
            if status == "running" and now > count:
                del pending[alloc_id]
            elif status != "running" and status not in ("pending",):
                raise CommandError(f'Allocation "{alloc_id[:8]}" is {status} after its restart')
        if pending and time.monotonic() > deadline:
            ids = ", ".join(a[:8] for a in pending)
            raise CommandError(f"Timed out waiting for allocations {ids} to restart")
        if pending:
            time.sleep(0.2)


@click.command()
@click.argument("job_id", metavar="<job>")
@click.option("--batch-size", default="1", help="Allocations per batch: a number or N%.")
@click.option("--batch-wait", type=float, default=0.0, help="Seconds to wait between batches.")
@click.option("--task", default="", help="Restart only this task.")
@click.option("--all-tasks", is_flag=True, help="Restart every task, not only running ones.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def restart(
    ctx: click.Context,
    job_id: str,
    batch_size: str,
    batch_wait: float,
    task: str,
    all_tasks: bool,
    yes: bool,
    verbose: bool,
) -> None:
    """Restart the running allocations of a job, in batches."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        job = resolve_job(client, job_id)
        allocs = [a for a in client.jobs.allocations(job.id) if a.client_status == "running"]
    except APIError as exc:
        raise CommandError(f"Error querying job: {exc}") from None
    size = _batch_size(batch_size, len(allocs))
    if not allocs:
        out.line(f"No running allocations for job {job.id!r}")
        return
    if not yes and sys.stdin.isatty():
        click.confirm(f"Restart {len(allocs)} allocations of job {job.id!r}?", abort=True)
    out.line(f"==> {_now()}: Restarting {len(allocs)} allocations")
    try:
        for start in range(0, len(allocs), size):
            _restart_batch(client, allocs[start : start + size], task, all_tasks, verbose)
            if batch_wait and start + size < len(allocs):
                out.line(f"==> {_now()}: Waiting {batch_wait:g}s before restarting the next batch")
                time.sleep(batch_wait)
    except APIError as exc:
        raise CommandError(f"Error restarting allocations: {exc}") from None
    out.line(f"==> {_now()}: Finished job restart\n\nAll allocations restarted successfully!")


def _restart_batch(
    client: Client, batch: list[AllocListStub], task: str, all_tasks: bool, verbose: bool
) -> None:
    before = {}
    for alloc in batch:
        before[alloc.id] = _restarts(client, alloc.id)[1]
        what = f"task {task!r}" if task else "all tasks" if all_tasks else "running tasks"
        out.line(
            f"    {_now()}: Restarting {what} in allocation "
            f'"{short_id(alloc.id, verbose)}" for group "{alloc.task_group}"'
        )
        client.allocations.restart(alloc.id, task, all_tasks=all_tasks)
    _wait_restarted(client, before)


def _batch_size(text: str, total: int) -> int:
    try:
        if text.endswith("%"):
            return max(1, total * int(text[:-1]) // 100)
        value = int(text)
    except ValueError:
        raise CommandError(f"Invalid -batch-size {text!r}: use a number or a percentage") from None
    if value < 1:
        raise CommandError(f"Invalid -batch-size {text!r}: must be at least 1")
    return value
