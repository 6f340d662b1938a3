"""``nomadic eval list [-verbose] [-job id] [-status s] [-json]``: evaluations, newest first."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id

__all__ = ["HEADER", "list_evals"]

HEADER = (
    "ID",
    "Priority",
    "Triggered By",
    "Job ID",
    "Namespace",
    "Node ID",
    "Status",
    "Placement Failures",
)


@click.command("list")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--job", "job_id", default="", help="Only evaluations of this job.")
@click.option("--status", "status", default="", help="Only evaluations with this status.")
@click.option("--json", "as_json", is_flag=True, help="Output the evaluations as JSON.")
@api_options
@click.pass_context
def list_evals(ctx: click.Context, verbose: bool, job_id: str, status: str, as_json: bool) -> None:
    """List evaluations, with whether each failed to place allocations."""
    from nomadic.api import APIError

    try:
        evals = client_from(ctx).evaluations.list(job=job_id, status=status)
    except APIError as exc:
        raise CommandError(f"Error querying evaluations: {exc}") from None
    evals.sort(key=lambda e: e.create_index, reverse=True)
    if as_json:
        out.json(evals)
        return
    if not evals:
        out.line("No evals found")
        return
    rows = [
        (
            short_id(e.id, verbose),
            e.priority,
            e.triggered_by,
            e.job_id,
            e.namespace,
            short_id(e.node_id, verbose) if e.node_id else "<none>",
            e.status,
            str(bool(e.failed_tg_allocs)).lower(),
        )
        for e in evals
    ]
    out.table(HEADER, rows)
