"""``nomadic operator raft remove-peer -peer-address host:port | -peer-id ID``."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["remove_peer"]


@click.command("remove-peer")
@click.option("--peer-address", default="", help="Remove the peer with this address.")
@click.option("--peer-id", default="", help="Remove the peer with this ID (list-peers' ID).")
@api_options
@click.pass_context
def remove_peer(ctx: click.Context, peer_address: str, peer_id: str) -> None:
    """Remove a server from the Raft configuration, e.g. one that died and will not return.

    With three servers and one removed, the remaining two form the quorum and can lose none.
    """
    from nomadic.api import APIError

    if bool(peer_address) == bool(peer_id):
        raise CommandError("Must specify exactly one of -peer-address and -peer-id")
    try:
        client_from(ctx).operator.raft_remove_peer(address=peer_address, peer_id=peer_id)
    except APIError as exc:
        raise CommandError(f"Error removing peer: {exc}") from None
    if peer_address:
        out.line(f'Removed peer with address "{peer_address}"')
    else:
        out.line(f'Removed peer with id "{peer_id}"')
