"""Mutual TLS for gRPC between agents (``tls { rpc = true ca_file cert_file key_file }``).

As in Nomad, every agent holds a certificate signed by the cluster's CA; servers require and
verify the caller's certificate, callers verify the server's against the CA. Addresses are
IPs, so callers check the server's certificate for Nomad's role name ``server.<region>.nomad``
(what ``nomad tls cert create -server`` puts in its SANs) rather than the dialled address; the
region is the one dialled when the caller knows it (a federated server), else its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc  # type: ignore[import-untyped]

from nomadic.tlsutil import read_pem_files

__all__ = ["RPCTLS"]


@dataclass(frozen=True)
class RPCTLS:
    ca: bytes
    cert: bytes
    key: bytes
    server_name: str  # the name a server's certificate must carry

    @classmethod
    def load(cls, ca_file: str, cert_file: str, key_file: str, region: str) -> RPCTLS:
        """Read the PEM files; a missing or unreadable one is a ConfigError naming it."""
        data = read_pem_files(
            {"tls.ca_file": ca_file, "tls.cert_file": cert_file, "tls.key_file": key_file},
            "tls { rpc = true }",
        )
        return cls(
            ca=data["tls.ca_file"],
            cert=data["tls.cert_file"],
            key=data["tls.key_file"],
            server_name=f"server.{region}.nomad",
        )

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )

    def channel_options(self, region: str = "") -> tuple[tuple[str, str], ...]:
        """Check the server's certificate for ``server.<region>.nomad``: the region dialled
        when known (cross-region calls), else this agent's own."""
        name = f"server.{region}.nomad" if region else self.server_name
        return (("grpc.ssl_target_name_override", name),)
