"""``nomadic node pool info [-json] <name>``: one node pool's details."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["info"]


@click.command()
@click.argument("name", metavar="<node-pool>")
@click.option("--json", "as_json", is_flag=True, help="Print the node pool as JSON.")
@api_options
@click.pass_context
def info(ctx: click.Context, name: str, as_json: bool) -> None:
    """Fetch information on a node pool."""
    from nomadic.api import APIError

    try:
        pool = client_from(ctx).node_pools.info(name)
    except APIError as exc:
        if exc.status == 404:
            raise CommandError(f'Node pool "{name}" not found') from None
        raise CommandError(f"Error retrieving node pool: {exc}") from None
    if as_json:
        out.json(pool)
        return
    out.kv([("Name", pool.name), ("Description", pool.description)])
    if pool.meta:
        out.line("\nMetadata")
        out.kv(sorted(pool.meta.items()))
    sched = pool.scheduler_configuration
    if sched is not None:
        oversub = sched.memory_oversubscription_enabled
        out.line("\nScheduler Configuration")
        out.kv(
            [
                ("Scheduler Algorithm", sched.scheduler_algorithm or "<default>"),
                (
                    "Memory Oversubscription Enabled",
                    "<default>" if oversub is None else str(oversub).lower(),
                ),
            ]
        )
