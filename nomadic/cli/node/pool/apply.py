"""``nomadic node pool apply [-description ..] [-meta k=v ...] <name or file>``: create or
update a node pool from flags, or from a ``node_pool "<name>" {...}`` file (``-`` = stdin)."""

from __future__ import annotations

import click

from nomadic.cli.namespace.apply import parse_meta
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.spec_input import is_spec_path, read_spec

__all__ = ["apply"]


@click.command()
@click.argument("target", metavar="<name or path>")
@click.option("--description", default=None, help="The node pool's description.")
@click.option("--meta", multiple=True, help="Metadata key=value (repeatable).")
@api_options
@click.pass_context
def apply(ctx: click.Context, target: str, description: str | None, meta: tuple[str, ...]) -> None:
    """Create or update a node pool."""
    import msgspec

    from nomadic.api import APIError
    from nomadic.structs import NodePool

    client = client_from(ctx)
    if is_spec_path(target):
        from nomadic.jobspec.specs import parse_node_pool_spec

        pool = read_spec(target, parse_node_pool_spec)
    else:
        try:
            pool = client.node_pools.info(target)
        except APIError as exc:
            if exc.status != 404:
                raise CommandError(f"Error applying node pool: {exc}") from None
            pool = NodePool(name=target)
        changes: dict[str, object] = {}
        if description is not None:
            changes["description"] = description
        if meta:
            changes["meta"] = {**pool.meta, **parse_meta(meta)}
        pool = msgspec.structs.replace(pool, **changes)
    try:
        client.node_pools.register(pool)
    except APIError as exc:
        raise CommandError(f"Error applying node pool: {exc}") from None
    out.line(f'Successfully applied node pool "{pool.name}"!')
