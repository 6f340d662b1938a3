"""The flags every command that talks to an agent takes, and the API client built from them.

``-address`` (``NOMAD_ADDR``, default ``http://127.0.0.1:4646``), ``-region`` (``NOMAD_REGION``)
and ``-token`` (``NOMAD_TOKEN``), as Nomad's CLI accepts them on every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from nomadic.api import Client

__all__ = ["api_options", "client_for_job", "client_from"]

F = TypeVar("F", bound=Callable[..., Any])


def api_options(fn: F) -> F:
    """Add ``-address``, ``-region`` and ``-token`` to a command (values land in ``ctx.meta``)."""

    def remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.meta[f"nomadic.{param.name}"] = value

    for name, env, help_text in (
        ("token", "NOMAD_TOKEN", "The secret token for the API (NOMAD_TOKEN)."),
        ("region", "NOMAD_REGION", "The region to send the request to (NOMAD_REGION)."),
        ("address", "NOMAD_ADDR", "The agent's HTTP address (NOMAD_ADDR)."),
    ):
        fn = click.option(
            f"--{name}",
            envvar=env,
            default=None,
            expose_value=False,
            is_eager=True,
            callback=remember,
            help=help_text,
        )(fn)
    return fn


def client_from(ctx: click.Context) -> Client:
    """The API client for this invocation (created once, closed when the command ends)."""
    from nomadic.api import Client

    found: Client | None = ctx.meta.get("nomadic.client")
    if found is None:
        found = Client(
            ctx.meta.get("nomadic.address"),
            region=ctx.meta.get("nomadic.region"),
            token=ctx.meta.get("nomadic.token"),
        )
        ctx.meta["nomadic.client"] = found
        ctx.call_on_close(found.close)
    return found


def client_for_job(ctx: click.Context, job_region: str, multiregion: bool) -> Client:
    """The API client for a job command: without ``-region``/``NOMAD_REGION`` the request goes
    to the job's own region (Nomad's CLI does the same); a multiregion job is left to the
    server, which sends it to one of its regions."""
    client = client_from(ctx)
    explicit = ctx.meta.get("nomadic.region")
    if not explicit and not multiregion and job_region not in ("", "global"):
        client.region = job_region
    return client
