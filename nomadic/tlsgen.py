"""Making a cluster CA and agent certificates, as ``nomad tls ca create`` and ``nomad tls cert
create -server|-client|-cli`` do (Nomad's ``helper/tlsutil/generate.go``): EC P-256 keys,
certificates named for the role, ``<role>.<region>.<domain>``, plus ``localhost`` and (for
agents) ``127.0.0.1``; server and client certificates serve both TLS ends."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["ROLES", "PEMPair", "generate_ca", "generate_cert"]

ROLES = ("server", "client", "cli")


@dataclass(frozen=True)
class PEMPair:
    cert: bytes
    key: bytes


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _validity(days: int) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)


def generate_ca(days: int = 1825, common_name: str = "nomad-agent-ca") -> PEMPair:
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return PEMPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def generate_cert(
    ca: PEMPair,
    role: str,
    *,
    region: str = "global",
    domain: str = "nomad",
    days: int = 365,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
) -> PEMPair:
    """A certificate for ``role`` (server, client or cli) signed by ``ca``; ValueError for a
    CA pair that is not one, or an IP address that is not one."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    try:
        ca_cert = x509.load_pem_x509_certificate(ca.cert)
        ca_key = serialization.load_pem_private_key(ca.key, password=None)
    except ValueError as exc:
        raise ValueError(f"cannot read the CA certificate or key: {exc}") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be an EC key (as `tls ca create` makes)")
    common = f"{role}.{region}.{domain}"
    names: list[x509.GeneralName] = [x509.DNSName(common), x509.DNSName("localhost")]
    names += [x509.DNSName(n) for n in dns_names]
    ips = ("127.0.0.1", *ip_addresses) if role != "cli" else ip_addresses
    try:
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    except ValueError as exc:
        raise ValueError(f"-additional-ipaddress: {exc}") from None
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if role != "cli":
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return PEMPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))
