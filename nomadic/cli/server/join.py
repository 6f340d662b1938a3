"""``nomadic server join <address>...``: federate this agent's server with other servers.

The addresses are servers' RPC addresses (``host:port``, port 4647 when left out), of this
region or another; Nomad prints ``Joined N servers successfully``.
"""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["join"]


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="<addr> [<addr>...]")
@api_options
@click.pass_context
def join(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """Join the agent's server to other servers (of any region) by their RPC addresses."""
    from nomadic.api import APIError

    try:
        joined, error = client_from(ctx).agent.join(list(addresses))
    except APIError as exc:
        raise CommandError(f"Error joining: {exc}") from None
    if joined == 0:
        raise CommandError(f"Error joining: {error or 'no server answered'}")
    out.line(f"Joined {joined} servers successfully")
    if error:
        out.line(f"Some servers could not be joined: {error}")
