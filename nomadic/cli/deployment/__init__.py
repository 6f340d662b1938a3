"""``nomadic deployment <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["deployment"]

_P = "nomadic.cli.deployment"
VERBS: dict[str, tuple[str, str]] = {
    "list": (f"{_P}.list:list_deployments", "List all deployments"),
    "status": (f"{_P}.status:status", "Display the status of a deployment"),
    "promote": (f"{_P}.actions:promote", "Promote canaries in a deployment"),
    "fail": (f"{_P}.actions:fail", "Manually fail a deployment"),
    "pause": (f"{_P}.actions:pause", "Pause a deployment"),
    "resume": (f"{_P}.actions:resume", "Resume a paused deployment"),
    "unblock": (f"{_P}.actions:unblock", "Unblock a blocked multiregion deployment"),
}


@click.group("deployment", cls=LazyGroup, lazy=VERBS)
def deployment() -> None:
    """Interact with deployments: list, status, promote, fail, pause, resume, unblock."""
