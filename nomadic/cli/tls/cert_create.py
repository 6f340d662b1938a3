"""``nomadic tls cert create -server|-client|-cli``: ``<region>-<role>-<domain>.pem`` signed
by the CA from ``tls ca create``."""

from __future__ import annotations

from pathlib import Path

import click

from nomadic.cli.output import out
from nomadic.cli.tls.files import write_new


@click.command()
@click.option("--server", "role", flag_value="server", help="Certificate for a server agent.")
@click.option("--client", "role", flag_value="client", help="Certificate for a client agent.")
@click.option("--cli", "role", flag_value="cli", help="Certificate for the CLI (-client-cert).")
@click.option("--ca", "ca_file", default="", help="CA certificate (<domain>-agent-ca.pem).")
@click.option("--key", "key_file", default="", help="CA key (<domain>-agent-ca-key.pem).")
@click.option("--days", default=365, show_default=True, help="Days the certificate is valid.")
@click.option("--region", default="global", show_default=True, help="Region of the agent.")
@click.option("--domain", default="nomad", show_default=True, help="Domain of the cluster.")
@click.option("--additional-dnsname", multiple=True, help="Another DNS name (repeatable).")
@click.option("--additional-ipaddress", multiple=True, help="Another IP address (repeatable).")
def cert_create(
    role: str | None,
    ca_file: str,
    key_file: str,
    days: int,
    region: str,
    domain: str,
    additional_dnsname: tuple[str, ...],
    additional_ipaddress: tuple[str, ...],
) -> None:
    """Create a certificate for an agent or the CLI, signed by the cluster's CA."""
    from nomadic.tlsgen import PEMPair, generate_cert

    if role is None:
        raise out.error("pass one of -server, -client or -cli")
    ca_file = ca_file or f"{domain}-agent-ca.pem"
    key_file = key_file or f"{domain}-agent-ca-key.pem"
    try:
        ca = PEMPair(Path(ca_file).read_bytes(), Path(key_file).read_bytes())
    except OSError as exc:
        raise out.error(
            f"cannot read {exc.filename}: {exc.strerror} (create a CA with "
            "`nomadic tls ca create`, or pass -ca and -key)"
        ) from None
    try:
        pair = generate_cert(
            ca,
            role,
            region=region,
            domain=domain,
            days=days,
            dns_names=additional_dnsname,
            ip_addresses=additional_ipaddress,
        )
    except ValueError as exc:
        raise out.error(f"{exc} (CA {ca_file}, key {key_file})") from None
    stem = f"{region}-{role}-{domain}"
    write_new({f"{stem}.pem": pair.cert, f"{stem}-key.pem": pair.key})
    title = {"server": "Server", "client": "Client", "cli": "Cli"}[role]
    out.line(f"==> Using CA file {ca_file} and CA key {key_file}")
    out.line(f"==> {title} Certificate saved to {stem}.pem")
    out.line(f"==> {title} Certificate key saved to {stem}-key.pem")
