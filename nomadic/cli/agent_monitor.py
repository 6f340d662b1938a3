"""``nomadic monitor [-log-level LEVEL] [-json]``: stream an agent's log (Nomad's ``monitor``).

Lines are written as the agent logs them, in its text form or, with ``-json``, one JSON object
per line with the structured fields (``eval_id``, ``alloc_id``, ``node_id``, ``job_id`` ...).
Ctrl-C ends it.
"""

from __future__ import annotations

import sys

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError

__all__ = ["monitor"]


@click.command()
@click.option(
    "--log-level",
    "log_level",
    default="INFO",
    show_default=True,
    help="TRACE, DEBUG, INFO, WARN or ERROR.",
)
@click.option("--json", "log_json", is_flag=True, help="Stream the log as JSON lines.")
@api_options
@click.pass_context
def monitor(ctx: click.Context, log_level: str, log_json: bool) -> None:
    """Stream the log of the agent at -address as it is written."""
    from nomadic.api import APIError

    client = client_from(ctx)
    out = sys.stdout.buffer
    try:
        for chunk in client.agent.monitor(log_level.upper(), log_json):
            out.write(chunk)
            out.flush()
    except APIError as exc:
        raise CommandError(f"Error starting monitor: {exc}") from None
    except KeyboardInterrupt:
        pass
