"""The agent's TLS material (Nomad's ``tls`` block, ``helper/tlsutil``): reading the PEM files
and the HTTPS contexts; gRPC's credentials live in ``nomadic.rpc.tls``.

    tls { http = true  ca_file  cert_file  key_file  verify_https_client = false }

``http = true`` serves the HTTP API over TLS 1.2+ with ``cert_file``/``key_file``; with
``verify_https_client`` a caller must present a certificate the CA signed. The agent then
advertises its HTTP address as ``https://host:port`` (node ``HTTPAddr``, member ``http_addr``),
so agents that proxy requests to it (``/v1/client/*``, other regions) know to speak TLS, and
do so with the same CA and certificate (:class:`ProxyTLS`).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from nomadic.errors import ConfigError

__all__ = ["HTTPTLS", "ProxyTLS", "read_pem_files"]


def read_pem_files(files: dict[str, str], needed_by: str) -> dict[str, bytes]:
    """``{config key: path}`` -> contents; a missing, unreadable or non-PEM file is a
    ConfigError naming the key and the path."""
    data: dict[str, bytes] = {}
    for key, path in files.items():
        if not path:
            raise ConfigError(f"{key} is required when {needed_by}")
        try:
            data[key] = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"{key} = {path!r}: cannot read it: {exc.strerror}") from None
        if b"-----BEGIN" not in data[key]:
            raise ConfigError(f"{key} = {path!r}: not a PEM file")
    return data


@dataclass(frozen=True)
class ProxyTLS:
    """How this agent dials agents that speak https: its CA, and its certificate in case the
    other agent sets ``verify_https_client``.

    ``region_ctx`` checks the certificate for ``server.<region>.nomad`` (the region's
    servers, as gRPC does); ``node_ctx`` accepts any certificate the cluster's CA signed,
    because a node runs with a client certificate or, on a server, a server one (Nomad's
    ``verify_server_hostname = false`` trust).
    """

    region_ctx: ssl.SSLContext
    node_ctx: ssl.SSLContext


@dataclass(frozen=True)
class HTTPTLS:
    ca_file: str
    cert_file: str
    key_file: str
    verify_https_client: bool

    @classmethod
    def load(
        cls, ca_file: str, cert_file: str, key_file: str, verify_https_client: bool
    ) -> HTTPTLS:
        """Check that the files exist, are PEM and that the key matches the certificate."""
        read_pem_files(
            {"tls.ca_file": ca_file, "tls.cert_file": cert_file, "tls.key_file": key_file},
            "tls { http = true }",
        )
        tls = cls(ca_file, cert_file, key_file, verify_https_client)
        tls.server_context()  # a key that does not match the certificate fails here
        return tls

    def _load_chain(self, ctx: ssl.SSLContext) -> None:
        try:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        except ssl.SSLError as exc:
            raise ConfigError(
                f"tls.cert_file = {self.cert_file!r}, tls.key_file = {self.key_file!r}: "
                f"cannot use them together ({exc.reason or exc}); is the key the "
                "certificate's own?"
            ) from None
        try:
            ctx.load_verify_locations(cafile=self.ca_file)
        except ssl.SSLError as exc:
            raise ConfigError(
                f"tls.ca_file = {self.ca_file!r}: not a CA certificate ({exc.reason or exc})"
            ) from None

    def server_context(self) -> ssl.SSLContext:
        """For the HTTP listener: TLS 1.2+, client certificates required when
        ``verify_https_client``, else not asked for."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self._load_chain(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED if self.verify_https_client else ssl.CERT_NONE
        return ctx

    def _client_context(self, check_hostname: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self._load_chain(ctx)
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def proxy_tls(self) -> ProxyTLS:
        return ProxyTLS(region_ctx=self._client_context(True), node_ctx=self._client_context(False))
