"""``nomadic tls ca create``: ``<domain>-agent-ca.pem`` and its key."""

from __future__ import annotations

import click

from nomadic.cli.output import out
from nomadic.cli.tls.files import write_new


@click.command()
@click.option("--days", default=1825, show_default=True, help="Days the CA is valid for.")
@click.option("--domain", default="nomad", show_default=True, help="Domain of the cluster.")
@click.option("--common-name", default="", help="Common name of the CA (<domain>-agent-ca).")
def ca_create(days: int, domain: str, common_name: str) -> None:
    """Create a certificate authority for agents' certificates."""
    from nomadic.tlsgen import generate_ca

    if days < 1:
        raise out.error(f"-days = {days}: must be at least 1")
    pair = generate_ca(days, common_name or f"{domain}-agent-ca")
    cert_path, key_path = f"{domain}-agent-ca.pem", f"{domain}-agent-ca-key.pem"
    write_new({cert_path: pair.cert, key_path: pair.key})
    out.line(f"==> CA certificate saved to: {cert_path}")
    out.line(f"==> CA certificate key saved to: {key_path}")
