"""``nomadic job <verb>``: one module per verb."""

from __future__ import annotations

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["job"]

VERBS: dict[str, tuple[str, str]] = {
    "dispatch": (
        "nomadic.cli.job.dispatch:dispatch",
        "Dispatch an instance of a parameterized job",
    ),
    "history": ("nomadic.cli.job.history:history", "Display all tracked versions of a job"),
    "periodic": ("nomadic.cli.job.periodic:periodic", "Interact with periodic jobs"),
    "restart": ("nomadic.cli.job.restart:restart", "Restart the allocations of a job"),
    "revert": ("nomadic.cli.job.revert:revert", "Revert to a prior version of the job"),
    "scale": ("nomadic.cli.job.scale:scale", "Change the count of a job's task group"),
    "init": ("nomadic.cli.job.init:init", "Create an example job file"),
    "inspect": ("nomadic.cli.job.inspect:inspect", "Inspect a submitted job"),
    "plan": ("nomadic.cli.job.plan:plan", "Dry-run a job update to determine its effects"),
    "run": ("nomadic.cli.job.run:run", "Run a new job or update an existing job"),
    "status": ("nomadic.cli.job.status:status", "Display status information about a job"),
    "stop": ("nomadic.cli.job.stop:stop", "Stop a running job"),
    "validate": (
        "nomadic.cli.job.validate:validate",
        "Checks if a given job specification is valid",
    ),
}


@click.group(cls=LazyGroup, lazy=VERBS)
def job() -> None:
    """Interact with jobs: run, plan, status, stop, inspect, dispatch, history, revert, scale."""
