"""``nomadic server force-leave <node>``: mark a dead server ``left`` in every region's list.

Nomad's command of the same name; ``<node>`` is the name ``server members`` shows
(``name.region``). A server that is in fact alive shows up ``alive`` again within a round.
"""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError

__all__ = ["force_leave"]


@click.command("force-leave")
@click.argument("node", metavar="<node>")
@api_options
@click.pass_context
def force_leave(ctx: click.Context, node: str) -> None:
    """Force a failed server into the left state."""
    from nomadic.api import APIError

    try:
        client_from(ctx).agent.force_leave(node)
    except APIError as exc:
        raise CommandError(f"Error force-leaving server {node}: {exc}") from None
