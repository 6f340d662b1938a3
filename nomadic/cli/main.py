"""The ``nomadic`` command: a Nomad-style CLI (``nomadic <noun> <verb>``) over the HTTP API.

Commands are loaded on first use (see :mod:`nomadic.cli.registry`) and talk to agents only
through :mod:`nomadic.api`, like Nomad's CLI. Exit codes: 0 ok, 1 error, 2 placement problems
(``job run``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from nomadic.cli.registry import LazyGroup

__all__ = ["cli", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("nomadic.cli.agent:agent_command", "Runs a nomadic agent"),
    "alloc": ("nomadic.cli.alloc:alloc", "Interact with allocations"),
    "deployment": ("nomadic.cli.deployment:deployment", "Interact with deployments"),
    "eval": ("nomadic.cli.eval:eval_group", "Interact with evaluations"),
    "fmt": ("nomadic.cli.fmt:fmt", "Rewrites HCL job files to canonical format"),
    "job": ("nomadic.cli.job:job", "Interact with jobs"),
    "monitor": ("nomadic.cli.agent_monitor:monitor", "Stream the logs of a nomadic agent"),
    "namespace": ("nomadic.cli.namespace:namespace", "Interact with namespaces"),
    "node": ("nomadic.cli.node:node", "Interact with nodes"),
    "operator": ("nomadic.cli.operator:operator", "Provides cluster-level tools for operators"),
    "server": ("nomadic.cli.server:server", "Interact with servers"),
    "status": ("nomadic.cli.status:status", "Display the status output for a resource"),
    "tls": ("nomadic.cli.tls:tls", "Generate TLS certificates for agents and the CLI"),
    "version": ("nomadic.cli.version:version", "Prints the nomadic version"),
    # Nomad's top-level aliases
    "init": ("nomadic.cli.job.init:init", "Alias for job init"),
    "run": ("nomadic.cli.job.run:run", "Alias for job run"),
    "plan": ("nomadic.cli.job.plan:plan", "Alias for job plan"),
    "stop": ("nomadic.cli.job.stop:stop", "Alias for job stop"),
    "inspect": ("nomadic.cli.job.inspect:inspect", "Alias for job inspect"),
    "validate": ("nomadic.cli.job.validate:validate", "Alias for job validate"),
    "logs": ("nomadic.cli.alloc.logs:logs", "Alias for alloc logs"),
    "exec": ("nomadic.cli.alloc.exec:exec_command", "Alias for alloc exec"),
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(
    cls=LazyGroup, lazy=COMMANDS, context_settings=CONTEXT_SETTINGS, invoke_without_command=False
)
@click.version_option(
    None, "--version", "-v", package_name="nomadic-scheduler", message="nomadic v%(version)s"
)
def cli() -> None:
    """nomadic: a workload orchestrator in the spirit of HashiCorp Nomad."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``nomadic`` script."""
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="nomadic")
