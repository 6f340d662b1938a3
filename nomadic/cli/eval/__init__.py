"""``nomadic eval <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["eval_group"]

VERBS: dict[str, tuple[str, str]] = {
    "list": ("nomadic.cli.eval.list:list_evals", "List the set of evaluations"),
    "status": (
        "nomadic.cli.eval.status:status",
        "Display evaluation status and placement failure reasons",
    ),
}


@click.group("eval", cls=LazyGroup, lazy=VERBS)
def eval_group() -> None:
    """Interact with evaluations: list, status."""
