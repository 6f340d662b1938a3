"""The flags every command that talks to an agent takes, and the API client built from them.

``-address`` (``NOMAD_ADDR``, default ``http://127.0.0.1:4646``), ``-region`` (``NOMAD_REGION``),
``-namespace`` (``NOMAD_NAMESPACE``) and ``-token`` (``NOMAD_TOKEN``), as Nomad's CLI accepts
them on every command, and the TLS flags: ``-ca-cert`` (``NOMAD_CACERT``), ``-client-cert``
(``NOMAD_CLIENT_CERT``), ``-client-key`` (``NOMAD_CLIENT_KEY``), ``-tls-server-name``
(``NOMAD_TLS_SERVER_NAME``) and ``-tls-skip-verify`` (``NOMAD_SKIP_VERIFY``).
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
    """Add ``-address``, ``-region``, ``-namespace``, ``-token`` and the TLS flags to a command
    (values land in ``ctx.meta``)."""

    def remember(ctx: click.Context, param: click.Parameter, value: object) -> None:
        if value is not None:
            ctx.meta[f"nomadic.{param.name}"] = value

    fn = click.option(
        "--tls-skip-verify",
        envvar="NOMAD_SKIP_VERIFY",
        is_flag=True,
        default=None,
        expose_value=False,
        is_eager=True,
        callback=remember,
        help="Do not verify the agent's TLS certificate; not recommended (NOMAD_SKIP_VERIFY).",
    )(fn)
    for name, env, help_text in (
        ("tls-server-name", "NOMAD_TLS_SERVER_NAME", "Name to check the agent's certificate for."),
        ("client-key", "NOMAD_CLIENT_KEY", "Key of -client-cert (NOMAD_CLIENT_KEY)."),
        ("client-cert", "NOMAD_CLIENT_CERT", "Client certificate for the agent (PEM)."),
        ("ca-cert", "NOMAD_CACERT", "CA certificate (PEM) to verify the agent's certificate."),
        ("token", "NOMAD_TOKEN", "The secret token for the API (NOMAD_TOKEN)."),
        ("region", "NOMAD_REGION", "The region to send the request to (NOMAD_REGION)."),
        ("namespace", "NOMAD_NAMESPACE", "The target namespace (NOMAD_NAMESPACE)."),
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
    from nomadic.api import Client, TLSConfig
    from nomadic.cli.output import CommandError

    found: Client | None = ctx.meta.get("nomadic.client")
    if found is None:
        meta = ctx.meta
        try:
            found = Client(
                meta.get("nomadic.address"),
                region=meta.get("nomadic.region"),
                token=meta.get("nomadic.token"),
                namespace=meta.get("nomadic.namespace"),
                tls=TLSConfig(
                    ca_cert=meta.get("nomadic.ca_cert", ""),
                    client_cert=meta.get("nomadic.client_cert", ""),
                    client_key=meta.get("nomadic.client_key", ""),
                    tls_server_name=meta.get("nomadic.tls_server_name", ""),
                    insecure=bool(meta.get("nomadic.tls_skip_verify")),
                ),
            )
        except ValueError as exc:
            raise CommandError(f"Error initializing client: {exc}") from None
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
