"""``nomadic eval status <eval>``: an evaluation's fields and why placements failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.monitor import format_alloc_metrics
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, pretty_time_diff, short_id
from nomadic.cli.resolve import resolve_eval

if TYPE_CHECKING:
    from nomadic.structs import Evaluation

__all__ = ["show_eval", "status"]


@click.command()
@click.argument("eval_id", metavar="<eval>")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.option("--json", "as_json", is_flag=True, help="Output the evaluation as JSON.")
@api_options
@click.pass_context
def status(ctx: click.Context, eval_id: str, verbose: bool, as_json: bool) -> None:
    """Show an evaluation's status, what triggered it and any placement failures."""
    from nomadic.api import APIError

    try:
        ev = resolve_eval(client_from(ctx), eval_id)
    except APIError as exc:
        raise CommandError(f"Error querying evaluation: {exc}") from None
    if as_json:
        out.json(ev)
        return
    show_eval(ev, verbose)


def _opt(eval_id: str, verbose: bool) -> str:
    return short_id(eval_id, verbose) if eval_id else "<none>"


def show_eval(ev: Evaluation, verbose: bool = False) -> None:
    out.kv(
        [
            ("ID", short_id(ev.id, verbose)),
            ("Create Time", pretty_time_diff(ev.create_time)),
            ("Modify Time", pretty_time_diff(ev.modify_time)),
            ("Status", ev.status),
            ("Status Description", ev.status_description or ev.status),
            ("Type", ev.type),
            ("TriggeredBy", ev.triggered_by),
            ("Job ID", ev.job_id),
            ("Namespace", ev.namespace),
            ("Priority", ev.priority),
            ("Placement Failures", str(bool(ev.failed_tg_allocs)).lower()),
            *(
                [
                    ("Previous Eval", _opt(ev.previous_eval, verbose)),
                    ("Next Eval", _opt(ev.next_eval, verbose)),
                    ("Blocked Eval", _opt(ev.blocked_eval, verbose)),
                ]
                if verbose
                else []
            ),
        ]
    )
    if ev.failed_tg_allocs:
        out.line("\nFailed Placements")
        for group, metrics in sorted(ev.failed_tg_allocs.items()):
            count = metrics.coalesced_failures + 1
            noun = "allocation" if count == 1 else "allocations"
            out.line(f'Task Group "{group}" (failed to place {count} {noun}):')
            for line in format_alloc_metrics(metrics):
                out.line(line)
        if ev.blocked_eval:
            out.line(
                f'\nEvaluation "{short_id(ev.blocked_eval, verbose)}" waiting for additional '
                "capacity to place remainder"
            )
