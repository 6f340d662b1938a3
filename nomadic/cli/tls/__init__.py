"""``nomadic tls ca create`` and ``nomadic tls cert create``: a cluster CA and agent
certificates in the current directory (Nomad's file names), for ``tls { ... }``."""

from __future__ import annotations

import click

from nomadic.cli.tls.ca_create import ca_create
from nomadic.cli.tls.cert_create import cert_create

__all__ = ["tls"]


@click.group()
def tls() -> None:
    """Generate a CA and certificates for TLS between agents and for the HTTP API."""


@tls.group()
def ca() -> None:
    """Create a certificate authority."""


@tls.group()
def cert() -> None:
    """Create agent and CLI certificates."""


ca.add_command(ca_create, "create")
cert.add_command(cert_create, "create")
