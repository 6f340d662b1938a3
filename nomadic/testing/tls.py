"""A throwaway CA and agent certificates for TLS tests (what ``nomad tls ca create`` and
``nomad tls cert create -server|-client`` make, see ``nomadic.tlsgen``), valid for a day."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nomadic.tlsgen import PEMPair, generate_ca, generate_cert

__all__ = ["CertFiles", "make_ca", "make_cert"]


@dataclass(frozen=True)
class CertFiles:
    cert_file: str
    key_file: str


def _write(directory: Path, stem: str, pair: PEMPair) -> CertFiles:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    cert_path.write_bytes(pair.cert)
    key_path.write_bytes(pair.key)
    return CertFiles(str(cert_path), str(key_path))


def make_ca(directory: Path, name: str = "nomad-agent-ca") -> CertFiles:
    return _write(directory, name, generate_ca(days=1, common_name=name))


def make_cert(
    directory: Path,
    ca: CertFiles,
    role: str,
    region: str = "global",
    extra_names: tuple[str, ...] = (),
) -> CertFiles:
    """A ``server`` or ``client`` certificate: ``<role>.<region>.nomad``, localhost, 127.0.0.1
    (and ``extra_names``, as ``nomad tls cert create -additional-dnsname`` adds)."""
    ca_pair = PEMPair(Path(ca.cert_file).read_bytes(), Path(ca.key_file).read_bytes())
    pair = generate_cert(ca_pair, role, region=region, days=1, dns_names=extra_names)
    return _write(directory, f"{region}-{role}-nomad", pair)
