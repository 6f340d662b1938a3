"""``nomadic namespace status [-json] <name>``: one namespace's details."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["status"]


@click.command()
@click.argument("name", metavar="<namespace>")
@click.option("--json", "as_json", is_flag=True, help="Print the namespace as JSON.")
@api_options
@click.pass_context
def status(ctx: click.Context, name: str, as_json: bool) -> None:
    """Display a namespace's status."""
    from nomadic.api import APIError

    try:
        ns = client_from(ctx).namespaces.info(name)
    except APIError as exc:
        if exc.status == 404:
            raise CommandError(f'Namespace "{name}" not found') from None
        raise CommandError(f"Error looking up namespace: {exc}") from None
    if as_json:
        out.json(ns)
        return
    rows: list[tuple[str, object]] = [
        ("Name", ns.name),
        ("Description", ns.description),
        ("Quota", ns.quota or "<none>"),
    ]
    if ns.capabilities is not None:
        caps = ns.capabilities
        rows += [
            ("EnabledDrivers", ",".join(caps.enabled_task_drivers)),
            ("DisabledDrivers", ",".join(caps.disabled_task_drivers)),
        ]
    if ns.node_pool_configuration is not None:
        pools = ns.node_pool_configuration
        rows += [
            ("Node Pool Default", pools.default),
            ("Node Pools Allowed", ",".join(pools.allowed) or "<all>"),
            ("Node Pools Denied", ",".join(pools.denied) or "<none>"),
        ]
    out.kv(rows)
    if ns.meta:
        out.line("\nMetadata")
        out.kv(sorted(ns.meta.items()))
