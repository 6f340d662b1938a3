"""``nomadic job dispatch [-meta k=v] [-id-prefix-template t] [-idempotency-token t] [-detach]
<job> [payload-file|-]``: launch a child of a parameterized job, then monitor its evaluation."""

from __future__ import annotations

import sys

import click

from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id

__all__ = ["dispatch"]


def _read_payload(source: str | None) -> bytes | None:
    if source is None:
        return None
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CommandError(f"Error reading payload file {source!r}: {exc.strerror}") from None


def _parse_meta(pairs: tuple[str, ...]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"Error parsing meta value {pair!r}: use -meta key=value")
        meta[key] = value
    return meta


@click.command()
@click.argument("job_id", metavar="<job>")
@click.argument("payload", metavar="[payload-file|-]", required=False)
@click.option("--meta", "meta_args", multiple=True, metavar="key=value", help="Dispatch meta.")
@click.option("--id-prefix-template", default="", help="Prefix for the dispatched job's ID.")
@click.option("--idempotency-token", default="", help="Dispatch at most once for this token.")
@click.option("--detach", is_flag=True, help="Return right away with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@api_options
@click.pass_context
def dispatch(
    ctx: click.Context,
    job_id: str,
    payload: str | None,
    meta_args: tuple[str, ...],
    id_prefix_template: str,
    idempotency_token: str,
    detach: bool,
    verbose: bool,
) -> None:
    """Dispatch an instance of a parameterized job, with meta and an optional payload."""
    from nomadic.api import APIError

    meta = _parse_meta(meta_args)
    data = _read_payload(payload)
    client = client_from(ctx)
    try:
        resp = client.jobs.dispatch(
            job_id,
            payload=data,
            meta=meta,
            id_prefix_template=id_prefix_template,
            idempotency_token=idempotency_token,
        )
    except APIError as exc:
        raise CommandError(f"Failed to dispatch job: {exc}") from None
    pairs: list[tuple[str, object]] = [("Dispatched Job ID", resp.dispatched_job_id)]
    if resp.eval_id:
        pairs.append(("Evaluation ID", short_id(resp.eval_id, verbose)))
    out.kv(pairs)
    if detach or not resp.eval_id:
        return
    out.line()
    try:
        ctx.exit(monitor_eval(client, resp.eval_id, verbose))
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
