"""``nomadic node status [-verbose] [<node>]``: the node list, or one node's details."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, pretty_time_diff, short_id
from nomadic.cli.resolve import resolve_node

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import Allocation, DriverInfo, Node

__all__ = ["show_node", "status"]


def _list(client: Client, verbose: bool) -> None:
    stubs = client.nodes.list()
    if not stubs:
        out.line("No nodes registered")
        return
    header: tuple[str, ...] = (
        "ID", "Node Pool", "DC", "Name", "Class", "Drain", "Eligibility", "Status"
    )  # fmt: skip
    rows: list[tuple[str, ...]] = [
        (
            short_id(n.id, verbose),
            n.node_pool,
            n.datacenter,
            n.name,
            n.node_class or "<none>",
            str(n.drain).lower(),
            n.scheduling_eligibility,
            n.status,
        )
        for n in stubs
    ]
    if verbose:  # Nomad's Address and Version, plus each detected driver and its health
        header += ("Address", "Version", "Drivers")
        rows = [
            (*row, n.address, n.version, _driver_health(n.drivers))
            for row, n in zip(rows, stubs, strict=True)
        ]
    out.table(header, rows)


def _driver_health(drivers: dict[str, DriverInfo]) -> str:
    """``docker,pycall,raw_exec(unhealthy)``: detected drivers, unhealthy ones marked."""
    names = [
        name if d.healthy else f"{name}(unhealthy)"
        for name, d in sorted(drivers.items())
        if d.detected
    ]
    return ",".join(names) or "<none>"


def _drivers(node: Node) -> str:
    ok = sorted(name for name, d in node.drivers.items() if d.detected and d.healthy)
    return ",".join(ok) or "<none>"


def _resources(node: Node, allocs: list[Allocation]) -> None:
    running = [a for a in allocs if not a.terminal()]
    cpu = sum(a.allocated_resources.comparable()[0] for a in running)
    mem = sum(a.allocated_resources.comparable()[1] for a in running)
    disk = sum(a.allocated_resources.comparable()[2] for a in running)
    res = node.node_resources
    out.line("\nAllocated Resources")
    out.table(
        ("CPU", "Memory", "Disk"),
        [
            (
                f"{cpu}/{res.cpu.cpu_shares} MHz",
                f"{mem} MiB/{res.memory.memory_mb} MiB",
                f"{disk} MiB/{res.disk.disk_mb} MiB",
            )
        ],
    )


def show_node(client: Client, node: Node, verbose: bool) -> None:
    out.kv(
        [
            ("ID", short_id(node.id, verbose)),
            ("Name", node.name),
            ("Node Pool", node.node_pool),
            ("Class", node.node_class or "<none>"),
            ("DC", node.datacenter),
            ("Drain", str(node.drain).lower()),
            ("Eligibility", node.scheduling_eligibility),
            ("Status", node.status),
            ("Address", node.http_addr or node.attributes.get("unique.network.ip-address", "")),
            ("Driver Status", _drivers(node)),
        ]
    )
    if node.events:
        out.line("\nNode Events")
        out.table(
            ("Time", "Subsystem", "Message"),
            [(e.timestamp, e.subsystem, e.message) for e in reversed(node.events)],
        )
    allocs = client.nodes.allocations(node.id)
    _resources(node, allocs)
    if verbose:
        out.line("\nDrivers")
        out.table(
            ("Driver", "Detected", "Healthy", "Message"),
            [
                (name, str(d.detected).lower(), str(d.healthy).lower(), d.health_description)
                for name, d in sorted(node.drivers.items())
            ],
        )
        out.line("\nAttributes")
        out.kv(sorted(node.attributes.items()))
        if node.meta:
            out.line("\nMeta")
            out.kv(sorted(node.meta.items()))
    out.line("\nAllocations")
    live = sorted(allocs, key=lambda a: a.create_index, reverse=True)
    if not live:
        out.line("No allocations placed")
        return
    out.table(
        ("ID", "Node ID", "Task Group", "Version", "Desired", "Status", "Created", "Modified"),
        [
            (
                short_id(a.id, verbose),
                short_id(a.node_id, verbose),
                a.task_group,
                a.job.version if a.job else 0,
                a.desired_status,
                a.client_status,
                pretty_time_diff(a.create_time),
                pretty_time_diff(a.modify_time),
            )
            for a in live
        ],
    )


@click.command()
@click.argument("node_id", metavar="[<node>]", required=False)
@click.option("--verbose", is_flag=True, help="Show full IDs, drivers and attributes.")
@click.option("--self", "self_", is_flag=True, help="Show the node of the agent answering.")
@api_options
@click.pass_context
def status(ctx: click.Context, node_id: str | None, verbose: bool, self_: bool) -> None:
    """List client nodes, or show one node's details and allocations."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        if self_:
            node_id = client.agent.self().get("stats", {}).get("client", {}).get("node_id")
            if not node_id:
                raise CommandError("The agent at this address is not running a client")
            show_node(client, client.nodes.info(node_id), verbose)
        elif node_id is None:
            _list(client, verbose)
        else:
            show_node(client, resolve_node(client, node_id), verbose)
    except APIError as exc:
        raise CommandError(f"Error querying node status: {exc}") from None
