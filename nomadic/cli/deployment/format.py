"""How deployments print (Nomad's ``command/deployment_status.go`` formatters), shared by
``deployment status``, ``job status`` (Latest Deployment) and ``job run``'s monitor."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from nomadic.cli.output import CommandError, format_time, out, short_id

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import Deployment

__all__ = ["group_rows", "monitor_deployment", "print_deployment", "resolve_deployment"]

POLL_WAIT = 5.0


def _deadline(progress_deadline: int, require_by: int) -> str:
    if not progress_deadline:
        return "<none>"
    if require_by:
        return format_time(require_by)
    return f"{progress_deadline // 1_000_000_000}s"


def group_rows(d: Deployment, *, job_status: bool = False) -> tuple[list[str], list[list[str]]]:
    """The per-group table: columns appear only when some group uses them, as in Nomad."""
    states = sorted(d.task_groups.items())
    auto_revert = any(s.auto_revert for _, s in states) and not job_status
    canaries = any(s.desired_canaries > 0 for _, s in states)
    header = ["Task Group"]
    header += ["Auto Revert"] if auto_revert else []
    header += ["Promoted"] if canaries else []
    header += ["Desired"] + (["Canaries"] if canaries else [])
    header += ["Placed", "Healthy", "Unhealthy", "Progress Deadline"]
    rows = []
    for name, s in states:
        row = [name]
        row += [str(s.auto_revert).lower()] if auto_revert else []
        row += [str(s.promoted).lower() if s.desired_canaries else "N/A"] if canaries else []
        row += [str(s.desired_total)] + ([str(s.desired_canaries)] if canaries else [])
        row += [str(s.placed_allocs), str(s.healthy_allocs), str(s.unhealthy_allocs)]
        row.append(_deadline(s.progress_deadline, s.require_progress_by))
        rows.append(row)
    return header, rows


def print_deployment(d: Deployment, verbose: bool = False) -> None:
    pairs: list[tuple[str, object]] = [
        ("ID", short_id(d.id, verbose)),
        ("Job ID", d.job_id),
        ("Job Version", d.job_version),
        ("Status", d.status),
        ("Description", d.status_description),
    ]
    out.kv(pairs)
    if d.task_groups:
        out.line()
        out.line("Deployed")
        out.table(*group_rows(d))


def resolve_deployment(client: Client, text: str) -> Deployment:
    found = client.deployments.list(prefix=text)
    exact = [d for d in found if d.id == text]
    found = exact or found
    if not found:
        raise CommandError(f'No deployment(s) with prefix or id "{text}" found')
    if len(found) > 1:
        ids = ", ".join(short_id(d.id) for d in found)
        raise CommandError(f"Prefix matched multiple deployments: {ids}")
    return found[0]


def monitor_deployment(client: Client, deployment_id: str, verbose: bool = False) -> int:
    """Follow a deployment until it leaves ``running``; 0 unless it failed or was cancelled."""
    now = format_time(time.time_ns())
    out.line(f'==> {now}: Monitoring deployment "{short_id(deployment_id, verbose)}"')
    index = 0
    while True:
        d = client.deployments.info(deployment_id, index=index, wait=POLL_WAIT)
        index = client.last_meta.last_index
        if d.status != "running":
            break
    mark = "✓" if d.status in ("successful", "blocked") else "!"
    out.line(f'  {mark} Deployment "{short_id(d.id, verbose)}" {d.status}')
    out.line()
    print_deployment(d, verbose)
    return 1 if d.status in ("failed", "cancelled") else 0
