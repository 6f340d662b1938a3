"""``nomadic operator raft list-peers``: the servers in the Raft configuration."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["list_peers"]


@click.command("list-peers")
@api_options
@click.pass_context
def list_peers(ctx: click.Context) -> None:
    """Display the current Raft peer configuration: node, ID, address, state, voter."""
    from nomadic.api import APIError

    try:
        config = client_from(ctx).operator.raft_configuration()
    except APIError as exc:
        raise CommandError(f"Error retrieving operator configuration: {exc}") from None
    rows = [
        (
            s.get("Node", ""),
            s.get("ID", ""),
            s.get("Address", ""),
            "leader" if s.get("Leader") else "follower",
            str(bool(s.get("Voter"))).lower(),
            s.get("RaftProtocol", ""),
        )
        for s in sorted(config.get("Servers", []), key=lambda s: str(s.get("Node", "")))
    ]
    out.table(("Node", "ID", "Address", "State", "Voter", "RaftProtocol"), rows)
