"""``nomadic namespace apply [-description ..] [-quota ..] [-meta k=v ...] <name or file>``:
create or update a namespace from flags, or from a ``namespace "<name>" {...}`` file."""

from __future__ import annotations

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.spec_input import is_spec_path, read_spec

__all__ = ["apply", "parse_meta"]


def parse_meta(pairs: tuple[str, ...]) -> dict[str, str]:
    meta = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"Invalid -meta {pair!r}: use key=value")
        meta[key] = value
    return meta


@click.command()
@click.argument("target", metavar="<namespace or path>")
@click.option("--description", default=None, help="The namespace's description.")
@click.option("--quota", default=None, help="The quota to attach to the namespace.")
@click.option("--meta", multiple=True, help="Metadata key=value (repeatable).")
@api_options
@click.pass_context
def apply(
    ctx: click.Context,
    target: str,
    description: str | None,
    quota: str | None,
    meta: tuple[str, ...],
) -> None:
    """Create or update a namespace."""
    import msgspec

    from nomadic.api import APIError
    from nomadic.structs import Namespace

    client = client_from(ctx)
    if is_spec_path(target):
        from nomadic.jobspec.specs import parse_namespace_spec

        ns = read_spec(target, parse_namespace_spec)
    else:
        try:
            ns = client.namespaces.info(target)
        except APIError as exc:
            if exc.status != 404:
                raise CommandError(f"Error applying namespace: {exc}") from None
            ns = Namespace(name=target)
        changes: dict[str, object] = {}
        if description is not None:
            changes["description"] = description
        if quota is not None:
            changes["quota"] = quota
        if meta:
            changes["meta"] = {**ns.meta, **parse_meta(meta)}
        ns = msgspec.structs.replace(ns, **changes)
    try:
        client.namespaces.register(ns)
    except APIError as exc:
        raise CommandError(f"Error applying namespace: {exc}") from None
    out.line(f'Successfully applied namespace "{ns.name}"!')
