"""``nomadic node drain -enable|-disable [-deadline 1h] [-force] [-no-deadline]
[-ignore-system] [-keep-ineligible] [-detach] [-m msg] [-self] [-yes] <node>``.

Enabling sets the node's drain strategy (the leader migrates its allocations, system jobs
last) and, unless ``-detach``, follows the drain until it completes; disabling clears it and
makes the node eligible again unless ``-keep-ineligible``. Like Nomad, it asks for
confirmation unless ``-yes``; the default deadline is one hour.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_node

if TYPE_CHECKING:
    from nomadic.api import Client

__all__ = ["drain"]

DEFAULT_DEADLINE = "1h"
MONITOR_WAIT = 5.0  # seconds per blocking query while following the drain


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _deadline_ns(deadline: str | None, force: bool, no_deadline: bool) -> int:
    if sum((deadline is not None, force, no_deadline)) > 1:
        raise CommandError("-deadline, -force and -no-deadline are mutually exclusive")
    if force:
        return -1
    if no_deadline:
        return 0
    from nomadic.jobspec.reader import parse_duration

    text = deadline if deadline is not None else DEFAULT_DEADLINE
    try:
        value = parse_duration(text)
    except ValueError:
        raise CommandError(
            f'Failed to parse deadline "{text}": use a duration such as 30m or 1h'
        ) from None
    if value <= 0:
        raise CommandError("A positive drain deadline is required (or use -no-deadline)")
    return value


def monitor_drain(client: Client, node_id: str) -> None:
    """Print allocation changes on the node until its drain completes (Nomad's output)."""
    out.line(f"{_stamp()}: Ctrl-C to stop monitoring: will not cancel the node drain")
    seen: dict[str, tuple[bool, str]] = {}
    index = 0
    while True:
        for alloc in client.nodes.allocations(node_id):
            marked = bool(alloc.desired_transition.migrate)
            before = seen.get(alloc.id)
            now = (marked, alloc.client_status)
            if before is not None and before != now:
                if marked and not before[0]:
                    out.line(f'{_stamp()}: Alloc "{alloc.id}" marked for migration')
                if before[1] != alloc.client_status:
                    out.line(
                        f'{_stamp()}: Alloc "{alloc.id}" status {before[1]} -> '
                        f"{alloc.client_status}"
                    )
            seen[alloc.id] = now
        node = client.nodes.info(node_id, index=index, wait=MONITOR_WAIT)
        index = client.last_meta.last_index
        if node.drain_strategy is None:
            out.line(f'{_stamp()}: Drain complete for node "{node_id}"')
            return


@click.command()
@click.argument("node_id", metavar="<node>", required=False)
@click.option("--enable", is_flag=True, help="Enable draining for the node.")
@click.option("--disable", is_flag=True, help="Disable draining for the node.")
@click.option("--deadline", default=None, help="How long to wait before forcing allocs off.")
@click.option("--force", is_flag=True, help="Migrate every allocation now (no deadline wait).")
@click.option("--no-deadline", is_flag=True, help="Wait for allocations however long it takes.")
@click.option("--ignore-system", is_flag=True, help="Leave system jobs running on the node.")
@click.option("--keep-ineligible", is_flag=True, help="With -disable: stay ineligible.")
@click.option("--detach", is_flag=True, help="Return right after setting the drain.")
@click.option("--monitor", is_flag=True, help="Only follow a drain already in progress.")
@click.option("-m", "message", default="", help="A message stored with the drain.")
@click.option("--self", "self_", is_flag=True, help="Drain the node of the agent answering.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@api_options
@click.pass_context
def drain(
    ctx: click.Context,
    node_id: str | None,
    enable: bool,
    disable: bool,
    deadline: str | None,
    force: bool,
    no_deadline: bool,
    ignore_system: bool,
    keep_ineligible: bool,
    detach: bool,
    monitor: bool,
    message: str,
    self_: bool,
    yes: bool,
) -> None:
    """Toggle drain mode on a node: its allocations move to other nodes."""
    from nomadic.api import APIError
    from nomadic.structs import DrainSpec

    if enable == disable and not monitor:
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
        if monitor:
            monitor_drain(client, node.id)
            return
        spec = DrainSpec(
            deadline=_deadline_ns(deadline, force, no_deadline), ignore_system_jobs=ignore_system
        )
        verb = "enable" if enable else "disable"
        if not yes and not click.confirm(
            f'Are you sure you want to {verb} drain mode for node "{node.id}"?', default=False
        ):
            out.line("Canceling drain toggle")
            return
        meta = {"message": message} if message else {}
        client.nodes.update_drain(
            node.id, spec if enable else None, mark_eligible=disable and not keep_ineligible,
            meta=meta,
        )  # fmt: skip
        if disable:
            out.line(f'Node "{node.id}" drain strategy unset')
            return
        out.line(f'Node "{node.id}" drain strategy set')
        if not detach:
            monitor_drain(client, node.id)
    except APIError as exc:
        raise CommandError(f"Error updating drain specification: {exc}") from None
