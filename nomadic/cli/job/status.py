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
    from nomadic.structs import AllocListStub, Job, JobListStub

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
        [(s.id, _type_string(s), s.priority, s.status, format_time(s.submit_time)) for s in stubs],
    )


def _type_string(stub: JobListStub) -> str:
    """Nomad's getTypeString: "batch/periodic", "batch/parameterized" for templates."""
    if stub.periodic:
        return f"{stub.type}/periodic"
    if stub.parameterized_job:
        return f"{stub.type}/parameterized"
    return stub.type


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


def _next_launch(job: Job) -> list[tuple[str, object]]:
    """Nomad's "Next Periodic Launch" line: the next time in the job's time zone."""
    import time

    from nomadic.structs.periodic import next_launch

    if not job.is_periodic() or job.is_parameterized() or job.stop or job.periodic is None:
        return []
    now = time.time_ns()
    due = next_launch(job.periodic, now)
    if not due:
        return []
    when = format_time(due)
    left = max(0, round((due - now) / 1e9))
    return [("Next Periodic Launch", f"{when} ({left}s from now)")]


def _children(client: Client, job: Job) -> None:
    """Children summary and launched/dispatched children of a periodic or parameterized job."""
    if not (job.is_periodic() or job.is_parameterized()):
        return
    if job.is_parameterized() and job.parameterized_job is not None:
        pj = job.parameterized_job
        out.line("\nParameterized Job")
        out.kv(
            [
                ("Payload", pj.payload),
                ("Required Metadata", ", ".join(pj.meta_required)),
                ("Optional Metadata", ", ".join(pj.meta_optional)),
            ]
        )
    summary = client.jobs.summary(job.id)
    title = "Parameterized Job Summary" if job.is_parameterized() else "Children Job Summary"
    out.line(f"\n{title}")
    c = summary.children
    out.table(("Pending", "Running", "Dead"), [(c.pending, c.running, c.dead)])
    children = [s for s in client.jobs.list(prefix=job.id + "/") if s.parent_id == job.id]
    out.line("\nDispatched Jobs" if job.is_parameterized() else "\nPreviously Launched Jobs")
    if not children:
        out.line("No instances of parameterized job found" if job.is_parameterized() else "")
        return
    children.sort(key=lambda s: s.submit_time, reverse=True)
    out.table(("ID", "Status"), [(s.id, s.status) for s in children])


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
            *_next_launch(job),
        ]
    )
    if job.is_periodic() or job.is_parameterized():
        _children(client, job)
        return
    if job.multiregion is not None:
        from nomadic.cli.job.multiregion_status import show_multiregion

        show_multiregion(client, job)
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
    _latest_deployment(client, job, verbose)
    allocs = client.jobs.allocations(job.id)
    if not all_allocs:  # allocations of an earlier job registered under the same ID
        allocs = [a for a in allocs if a.create_index >= job.create_index]
    out.line("\nAllocations")
    if not allocs:
        out.line("No allocations placed")
        return
    out.table(ALLOC_HEADER, alloc_rows(allocs, verbose))


def _latest_deployment(client: Client, job: Job, verbose: bool) -> None:
    """Nomad's "Latest Deployment" block for service jobs that have one."""
    if job.type != "service":
        return
    from nomadic.cli.deployment.format import group_rows

    d = client.deployments.latest_of_job(job.id)
    if d is None:
        return
    out.line("\nLatest Deployment")
    out.kv(
        [
            ("ID", short_id(d.id, verbose)),
            ("Status", d.status),
            ("Description", d.status_description),
        ]
    )
    if d.task_groups:
        out.line("\nDeployed")
        out.table(*group_rows(d, job_status=True))


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
