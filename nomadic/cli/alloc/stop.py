"""``nomadic alloc stop [-detach] <alloc>``: stop an allocation so it is rescheduled."""

from __future__ import annotations

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out
from nomadic.cli.resolve import resolve_alloc

__all__ = ["stop"]


@click.command()
@click.argument("alloc_id", metavar="<alloc>")
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def stop(ctx: click.Context, alloc_id: str, detach: bool, verbose: bool) -> None:
    """Stop an allocation; the scheduler places a replacement."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        resp = client.allocations.stop(resolve_alloc(client, alloc_id).id)
        if detach:
            out.line(resp.eval_id)
            return
        code = monitor_eval(client, resp.eval_id, verbose)
    except APIError as exc:
        raise CommandError(f"Error stopping allocation: {exc}") from None
    ctx.exit(code)
