"""Follow an evaluation to its end, printing what happens as Nomad's ``monitor`` does.

    ==> <time>: Monitoring evaluation "<eval>"
        <time>: Evaluation triggered by job "<job>"
        <time>: Allocation "<alloc>" created: node "<node>", group "<group>"
        <time>: Evaluation status changed: "pending" -> "complete"
    ==> <time>: Evaluation "<eval>" finished with status "complete"

Placement failures print the scheduler's reasons (``format_alloc_metrics``) and exit code 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from nomadic.cli.output import format_time, out, short_id

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import AllocMetric, Evaluation

__all__ = ["EXIT_PLACEMENT_FAILED", "format_alloc_metrics", "monitor_eval"]

EXIT_PLACEMENT_FAILED = 2
POLL_WAIT = 5.0  # seconds per blocking query


def format_alloc_metrics(metrics: AllocMetric, prefix: str = "  ") -> list[str]:
    """Why allocations were not placed, one ``* reason`` line each (Nomad's formatAllocMetrics)."""
    lines = []
    if metrics.nodes_evaluated == 0:
        lines.append(f"{prefix}* No nodes were eligible for evaluation")
    for dc, available in sorted(metrics.nodes_available.items()):
        if available == 0:
            lines.append(f'{prefix}* No nodes are available in datacenter "{dc}"')
    for cls, num in sorted(metrics.class_filtered.items()):
        lines.append(f'{prefix}* Class "{cls}": {num} nodes excluded by filter')
    for constraint, num in sorted(metrics.constraint_filtered.items()):
        lines.append(f'{prefix}* Constraint "{constraint}": {num} nodes excluded by filter')
    if metrics.nodes_exhausted > 0:
        lines.append(f"{prefix}* Resources exhausted on {metrics.nodes_exhausted} nodes")
    for cls, num in sorted(metrics.class_exhausted.items()):
        lines.append(f'{prefix}* Class "{cls}" exhausted on {num} nodes')
    for dim, num in sorted(metrics.dimension_exhausted.items()):
        lines.append(f'{prefix}* Dimension "{dim}" exhausted on {num} nodes')
    for quota in metrics.quota_exhausted:
        lines.append(f'{prefix}* Quota limit hit "{quota}"')
    return lines


def _now() -> str:
    return format_time(time.time_ns())


def _info(text: str) -> None:
    out.line(f"==> {_now()}: {text}")


def _say(text: str) -> None:
    out.line(f"    {_now()}: {text}")


def monitor_eval(client: Client, eval_id: str, verbose: bool = False) -> int:
    """Print the evaluation's progress until it (and any follow-up eval) ends; the exit code."""

    def sid(full: str) -> str:
        return short_id(full, verbose)

    _info(f'Monitoring evaluation "{sid(eval_id)}"')
    status, seen, index, announced = "pending", set[str](), 0, False
    while True:
        ev = client.evaluations.info(eval_id, index=index, wait=POLL_WAIT)
        index = client.last_meta.last_index
        if not announced:
            _announce(ev, sid)
            announced = True
        for alloc in client.evaluations.allocations(eval_id):
            if alloc.id not in seen:
                seen.add(alloc.id)
                _say(
                    f'Allocation "{sid(alloc.id)}" created: node "{sid(alloc.node_id)}"'
                    f', group "{alloc.task_group}"'
                )
        if ev.status != status:
            _say(f'Evaluation status changed: "{status}" -> "{ev.status}"')
            status = ev.status
        if not ev.terminal():
            continue
        if ev.next_eval:
            _info(f'Monitoring next evaluation "{sid(ev.next_eval)}" in 0s')
            eval_id, status, index, announced = ev.next_eval, "pending", 0, False
            continue
        return _finish(ev, sid)


def _announce(ev: Evaluation, sid: Callable[[str], str]) -> None:
    if ev.node_id:
        _say(f'Evaluation triggered by node "{sid(ev.node_id)}"')
    else:
        _say(f'Evaluation triggered by job "{ev.job_id}"')
    if ev.deployment_id:
        _say(f'Evaluation within deployment: "{sid(ev.deployment_id)}"')


def _finish(ev: Evaluation, sid: Callable[[str], str]) -> int:
    if not ev.failed_tg_allocs:
        _info(f'Evaluation "{sid(ev.id)}" finished with status "{ev.status}"')
        return EXIT_PLACEMENT_FAILED if ev.status == "failed" else 0
    _info(
        f'Evaluation "{sid(ev.id)}" finished with status "{ev.status}" '
        "but failed to place all allocations:"
    )
    for group, metrics in sorted(ev.failed_tg_allocs.items()):
        count = metrics.coalesced_failures + 1
        noun = "allocation" if count == 1 else "allocations"
        _say(f'Task Group "{group}" (failed to place {count} {noun}):')
        for line in format_alloc_metrics(metrics):
            out.line(f"    {line}")
    if ev.blocked_eval:
        _say(
            f'Evaluation "{sid(ev.blocked_eval)}" waiting for additional capacity '
            "to place remainder"
        )
    return EXIT_PLACEMENT_FAILED
