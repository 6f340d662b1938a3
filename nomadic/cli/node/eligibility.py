"""``nomadic node eligibility -enable|-disable [-self] <node>``: whether the scheduler may
place new allocations on a node (its running allocations stay)."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_node

__all__ = ["eligibility"]


@click.command()
@click.argument("node_id", metavar="<node>", required=False)
@click.option("--enable", is_flag=True, help="Mark the node eligible for new allocations.")
@click.option("--disable", is_flag=True, help="Mark the node ineligible for new allocations.")
@click.option("--self", "self_", is_flag=True, help="The node of the agent answering.")
@api_options
@click.pass_context
def eligibility(
    ctx: click.Context, node_id: str | None, enable: bool, disable: bool, self_: bool
) -> None:
    """Toggle a node's scheduling eligibility."""
    from nomadic.api import APIError

    if enable == disable:
        raise CommandError("Either the '-enable' or '-disable' flag must be set")
    if (node_id is None) == (not self_):
        raise CommandError("Node ID must be specified if -self isn't being used")
    client = client_from(ctx)
    try:
        if self_:
            node_id = client.agent.self().get("stats", {}).get("client", {}).get("node_id")
            if not node_id:
                raise CommandError("The agent at this address is not running a client")
        assert node_id is not None
        node = resolve_node(client, node_id)
        client.nodes.toggle_eligibility(node.id, enable)
    except APIError as exc:
        raise CommandError(f"Error updating scheduling eligibility: {exc}") from None
    state = "eligible" if enable else "ineligible"
    out.line(f'Node "{node.id}" scheduling eligibility set: {state} for scheduling')
