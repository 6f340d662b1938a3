"""``nomadic alloc status <alloc>``: an allocation's fields, addresses and task events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import (
    CommandError,
    format_time,
    format_timestamp,
    out,
    pretty_time_diff,
    short_id,
)
from nomadic.cli.resolve import resolve_alloc
from nomadic.cli.usage import resource_stats, usage_vs_limits

if TYPE_CHECKING:
    from nomadic.structs import Allocation, TaskEvent, TaskState

__all__ = ["show_alloc", "status"]


def _fields(a: Allocation, verbose: bool) -> list[tuple[str, object]]:
    return [
        ("ID", short_id(a.id, verbose)),
        ("Eval ID", short_id(a.eval_id, verbose)),
        ("Name", a.name),
        ("Node ID", short_id(a.node_id, verbose)),
        ("Node Name", a.node_name),
        ("Job ID", a.job_id),
        ("Job Version", a.job.version if a.job else 0),
        ("Client Status", a.client_status),
        ("Client Description", a.client_description or "<none>"),
        ("Desired Status", a.desired_status),
        ("Desired Description", a.desired_description or "<none>"),
        ("Created", pretty_time_diff(a.create_time)),
        ("Modified", pretty_time_diff(a.modify_time)),
        *_deployment_fields(a, verbose),
    ]


def _deployment_fields(a: Allocation, verbose: bool) -> list[tuple[str, object]]:
    """Nomad's Deployment ID / Deployment Health / Canary lines."""
    if not a.deployment_id:
        return []
    status = a.deployment_status
    health = "unset"
    if status is not None and status.healthy is not None:
        health = "healthy" if status.healthy else "unhealthy"
    fields: list[tuple[str, object]] = [
        ("Deployment ID", short_id(a.deployment_id, verbose)),
        ("Deployment Health", health),
    ]
    if status is not None and status.canary:
        fields.append(("Canary", "true"))
    return fields


def _addresses(a: Allocation) -> None:
    ports = a.allocated_resources.shared.ports
    if not ports:
        return
    group = a.job.lookup_task_group(a.task_group) if a.job else None
    reserved = {p.label for n in (group.networks if group else []) for p in n.reserved_ports}
    out.line("\nAllocation Addresses:")
    out.table(
        ("Label", "Dynamic", "Address"),
        [
            (f"*{p.label}", "no" if p.label in reserved else "yes", f"{p.host_ip}:{p.value}")
            for p in ports
        ],
    )


def _describe(event: TaskEvent) -> str:
    return event.display_message or event.message or event.driver_error or event.setup_error


def _task(
    a: Allocation, name: str, state: TaskState, stats: dict[str, Any] | None, detailed: bool
) -> None:
    out.line(f'\nTask "{name}" is "{state.state}"')
    res = a.allocated_resources.tasks.get(name)
    usage = ((stats or {}).get("Tasks") or {}).get(name) or {}
    if res is not None:
        out.line("Task Resources:")
        cpu, memory = f"{res.cpu.cpu_shares}", f"{res.memory.memory_mb} MiB"
        resource_usage = usage.get("ResourceUsage") or {}
        if resource_usage:
            cpu, memory = usage_vs_limits(resource_usage, cpu, memory)
        out.table(
            ("CPU", "Memory", "Disk"),
            [(f"{cpu} MHz", memory, f"{a.allocated_resources.shared.disk_mb} MiB")],
        )
        if detailed and resource_usage:
            out.line()
            resource_stats(resource_usage)
    out.line("\nTask Events:")
    out.kv(
        [
            ("Started At", format_timestamp(state.started_at) or "N/A"),
            ("Finished At", format_timestamp(state.finished_at) or "N/A"),
            ("Total Restarts", state.restarts),
            ("Last Restart", format_timestamp(state.last_restart) or "N/A"),
        ]
    )
    out.line("\nRecent Events:")
    events = list(reversed(state.events))  # newest first, as recorded
    out.table(
        ("Time", "Type", "Description"),
        [(format_time(e.time), e.type, _describe(e)) for e in events],
    )


@click.command()
@click.argument("alloc_id", metavar="<alloc>")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--json", "as_json", is_flag=True, help="Output the allocation as JSON.")
@click.option("--stats", is_flag=True, help="Display detailed resource usage statistics.")
@api_options
@click.pass_context
def status(ctx: click.Context, alloc_id: str, verbose: bool, as_json: bool, stats: bool) -> None:
    """Show an allocation's status, addresses, resource usage and the events of its tasks."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        a = resolve_alloc(client, alloc_id)
    except APIError as exc:
        raise CommandError(f"Error querying allocation: {exc}") from None
    if as_json:
        out.json(a)
        return
    usage, problem = None, ""
    if a.client_status == "running":  # as Nomad: measured usage of a running allocation
        try:
            usage = client.allocations.stats(a.id)
        except APIError as exc:
            problem = f"Couldn't retrieve stats: {exc}"
    show_alloc(a, verbose, usage, stats)
    if problem:
        click.echo(f"\n{problem}", err=True)


def show_alloc(
    a: Allocation,
    verbose: bool = False,
    stats: dict[str, Any] | None = None,
    detailed: bool = False,
) -> None:
    out.kv(_fields(a, verbose))
    _addresses(a)
    for name in sorted(a.task_states):
        _task(a, name, a.task_states[name], stats, detailed)
