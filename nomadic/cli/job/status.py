"""``nomadic job status [<job>]``: the job list, or one job's details, summary and allocations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.monitor import format_alloc_metrics
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, format_time, out, pretty_time_diff, short_id
from nomadic.cli.resolve import resolve_job

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import AllocListStub, Job

__all__ = ["list_jobs", "show_job", "status"]

SUMMARY_HEADER = (
    "Task Group",
    "Queued",
    "Starting",
    "Running",
    "Failed",
    "Complete",
    "Lost",
    "Unknown",
)
ALLOC_HEADER = (
    "ID",
    "Node ID",
    "Task Group",
    "Version",
    "Desired",
    "Status",
    "Created",
    "Modified",
)


def list_jobs(client: Client) -> None:
    stubs = client.jobs.list()
    if not stubs:
        out.line("No running jobs")
        return
    out.table(
        ("ID", "Type", "Priority", "Status", "Submit Date"),
        [(s.id, s.type, s.priority, s.status, format_time(s.submit_time)) for s in stubs],
    )


def alloc_rows(allocs: list[AllocListStub], verbose: bool) -> list[tuple[object, ...]]:
    ordered = sorted(allocs, key=lambda a: (a.create_index, a.id), reverse=True)
    return [
        (
            short_id(a.id, verbose),
            short_id(a.node_id, verbose),
            a.task_group,
            a.job_version,
            a.desired_status,
            a.client_status,
            pretty_time_diff(a.create_time),
            pretty_time_diff(a.modify_time),
        )
        for a in ordered
    ]


def show_job(client: Client, job: Job, verbose: bool = False, all_allocs: bool = False) -> None:
    out.kv(
        [
            ("ID", job.id),
            ("Name", job.name),
            ("Submit Date", format_time(job.submit_time)),
            ("Type", job.type),
            ("Priority", job.priority),
            ("Datacenters", ",".join(job.datacenters)),
            ("Namespace", job.namespace),
            ("Node Pool", job.node_pool),
            ("Status", job.status),
            ("Periodic", str(job.is_periodic()).lower()),
            ("Parameterized", str(job.is_parameterized()).lower()),
        ]
    )
    summary = client.jobs.summary(job.id)
    out.line("\nSummary")
    out.table(
        SUMMARY_HEADER,
        [
            (tg, c.queued, c.starting, c.running, c.failed, c.complete, c.lost, c.unknown)
            for tg, c in sorted(summary.summary.items())
        ],
    )
    _placement_failures(client, job)
    allocs = client.jobs.allocations(job.id)
    if not all_allocs:  # allocations of an earlier job registered under the same ID
        allocs = [a for a in allocs if a.create_index >= job.create_index]
    out.line("\nAllocations")
    if not allocs:
        out.line("No allocations placed")
        return
    out.table(ALLOC_HEADER, alloc_rows(allocs, verbose))


def _placement_failures(client: Client, job: Job) -> None:
    """While an eval is blocked, the latest eval's placement failures (as Nomad shows them)."""
    evals = client.jobs.evaluations(job.id)
    failed = [e for e in evals if e.failed_tg_allocs]
    if not failed or not any(e.status == "blocked" for e in evals):
        return
    latest = max(failed, key=lambda e: e.create_index)
    out.line("\nPlacement Failure")
    groups = sorted(latest.failed_tg_allocs)
    for i, group in enumerate(groups):
        out.line(f'Task Group "{group}":')
        for line in format_alloc_metrics(latest.failed_tg_allocs[group]):
            out.line(line)
        if i != len(groups) - 1:
            out.line()


@click.command()
@click.argument("job_id", metavar="[<job>]", required=False)
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--all-allocs", is_flag=True, help="Show allocations of every job version.")
@api_options
@click.pass_context
def status(ctx: click.Context, job_id: str | None, verbose: bool, all_allocs: bool) -> None:
    """List jobs, or show one job's status, summary and allocations."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        if job_id is None:
            list_jobs(client)
            return
        show_job(client, resolve_job(client, job_id), verbose, all_allocs)
    except APIError as exc:
        raise CommandError(f"Error querying job: {exc}") from None
