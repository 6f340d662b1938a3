"""``nomadic server members``: the servers of the region, their addresses and the leader."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["members"]


@click.command()
@click.option("--verbose", is_flag=True, help="Show every tag of each member.")
@api_options
@click.pass_context
def members(ctx: click.Context, verbose: bool) -> None:
    """List the known servers and which one leads."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        found = client.agent.members()
        build = ""
        if any("build" not in m.tags for m in found.members):  # nomadic servers leave it out
            version = client.agent.self().get("config", {}).get("Version", {})
            build = version.get("Version", "") if isinstance(version, dict) else ""
    except APIError as exc:
        raise CommandError(f"Error querying servers: {exc}") from None
    header: tuple[str, ...] = (
        "Name",
        "Address",
        "Port",
        "Status",
        "Leader",
        "Raft Version",
        "Build",
        "Datacenter",
        "Region",
    )
    rows: list[tuple[object, ...]] = [
        (
            m.name,
            m.addr,
            m.port,
            m.status,
            m.tags.get("leader", "false"),
            m.tags.get("raft_vsn", "3"),
            m.tags.get("build", build),
            m.tags.get("dc", ""),
            m.tags.get("region", ""),
        )
        for m in sorted(found.members, key=lambda m: m.name)
    ]
    if verbose:
        header = ("Name", "Address", "Port", "Status", "Tags")
        rows = [
            (
                m.name,
                m.addr,
                m.port,
                m.status,
                ",".join(f"{k}={v}" for k, v in sorted(m.tags.items())),
            )
            for m in sorted(found.members, key=lambda m: m.name)
        ]
    out.table(header, rows)
