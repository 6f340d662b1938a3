"""``nomadic alloc logs [-f] [-stderr] [-tail] [-n N] [-c N] [-task t] [-job] <alloc> [task]``.

With ``-tail`` the stream starts near the end: ``-c`` bytes, or ``-n`` lines (default 10)
estimated at 120 bytes a line as Nomad does, then trimmed to exactly ``n`` lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError
from nomadic.cli.resolve import resolve_alloc

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import Allocation

__all__ = ["logs"]

BYTES_PER_LINE = 120
DEFAULT_TAIL_LINES = 10


def _pick_alloc(client: Client, ident: str, by_job: bool) -> Allocation:
    if not by_job:
        return resolve_alloc(client, ident)
    stubs = client.jobs.allocations(ident)
    running = [a for a in stubs if a.client_status == "running"] or stubs
    if not running:
        raise CommandError(f'No allocations found for job "{ident}"')
    return client.allocations.info(max(running, key=lambda a: a.create_index).id)


def _pick_task(alloc: Allocation, task: str | None) -> str:
    group = alloc.job.lookup_task_group(alloc.task_group) if alloc.job else None
    names = [t.name for t in group.tasks] if group else sorted(alloc.task_states)
    if task:
        if task not in names:
            raise CommandError(
                f'Could not find task named: "{task}"; the tasks are: {", ".join(names)}'
            )
        return task
    if len(names) == 1:
        return names[0]
    listed = "\n".join(f"  * {n}" for n in names)
    raise CommandError(
        f'Allocation "{alloc.id[:8]}" is running the following tasks:\n{listed}\n\n'
        "Please specify the task."
    )


def _last_lines(data: bytes, n: int) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-n:]) if n > 0 else b""


def _trim_first(chunks: Iterator[bytes], n: int) -> Iterator[bytes]:
    """Trim the first chunk (the tail's estimate) to its last ``n`` lines; pass the rest."""
    first = True
    for chunk in chunks:
        yield _last_lines(chunk, n) if first else chunk
        first = False


@click.command()
@click.argument("alloc_id", metavar="<alloc>")
@click.argument("task_arg", metavar="[<task>]", required=False)
@click.option("--task", "task_opt", default=None, help="The task to read logs of.")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming as new output arrives.")
@click.option("--stderr", is_flag=True, help="Show stderr instead of stdout.")
@click.option("--tail", is_flag=True, help="Show the end of the logs (see -n, -c).")
@click.option("-n", "lines", type=int, default=None, help="With -tail, lines to show (10).")
@click.option("-c", "nbytes", type=int, default=None, help="With -tail, bytes to show.")
@click.option(
    "--job", "by_job", is_flag=True, help="<alloc> is a job ID: use its latest allocation."
)
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def logs(
    ctx: click.Context,
    alloc_id: str,
    task_arg: str | None,
    task_opt: str | None,
    follow: bool,
    stderr: bool,
    tail: bool,
    lines: int | None,
    nbytes: int | None,
    by_job: bool,
    verbose: bool,
) -> None:
    """Stream the stdout (or stderr) of one task of an allocation."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        alloc = _pick_alloc(client, alloc_id, by_job)
        task = _pick_task(alloc, task_opt or task_arg)
        origin, offset, keep = "start", 0, 0
        if tail:
            origin = "end"
            if nbytes is not None:
                offset = nbytes
            else:
                keep = lines if lines is not None else DEFAULT_TAIL_LINES
                offset = keep * BYTES_PER_LINE
        chunks = client.fs.logs(
            alloc.id, task, stderr=stderr, follow=follow, origin=origin, offset=offset
        )
        _copy(chunks, keep, follow)
    except APIError as exc:
        raise CommandError(f"Error reading logs: {exc}") from None


def _copy(chunks: Iterator[bytes], keep: int, follow: bool) -> None:
    sink = sys.stdout.buffer
    if keep and not follow:
        sink.write(_last_lines(b"".join(chunks), keep))
    else:
        for chunk in _trim_first(chunks, keep) if keep else chunks:
            sink.write(chunk)
            sink.flush()
    sink.flush()
