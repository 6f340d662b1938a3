"""TLS settings of the API client (Nomad's ``api.TLSConfig``) and the hints for TLS failures.

NOMAD_CACERT / -ca-cert              CA (file or directory) that signed the agent's cert
NOMAD_CLIENT_CERT / -client-cert     certificate presented to an agent that verifies
NOMAD_CLIENT_KEY / -client-key       clients (``verify_https_client``), and its key
NOMAD_TLS_SERVER_NAME / -tls-server-name   name to check the agent's certificate for
NOMAD_SKIP_VERIFY / -tls-skip-verify       do not check the agent's certificate at all
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

__all__ = ["TLSConfig"]

_TRUE = ("1", "true", "t", "yes", "y", "on")


@dataclass(frozen=True)
class TLSConfig:
    ca_cert: str = ""
    client_cert: str = ""
    client_key: str = ""
    tls_server_name: str = ""
    insecure: bool = False

    @classmethod
    def from_env(cls) -> TLSConfig:
        env = os.environ.get
        return cls(
            ca_cert=env("NOMAD_CACERT", ""),
            client_cert=env("NOMAD_CLIENT_CERT", ""),
            client_key=env("NOMAD_CLIENT_KEY", ""),
            tls_server_name=env("NOMAD_TLS_SERVER_NAME", ""),
            insecure=env("NOMAD_SKIP_VERIFY", "").strip().lower() in _TRUE,
        )

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What httpx's ``verify=`` takes: True (the system's CAs) when nothing is set.
        Raises ValueError naming the flag and file that cannot be used."""
        if not (self.ca_cert or self.client_cert or self.client_key or self.insecure):
            return True
        ctx = ssl.create_default_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ca_cert:
            is_dir = os.path.isdir(self.ca_cert)
            try:
                ctx.load_verify_locations(
                    cafile=None if is_dir else self.ca_cert,
                    capath=self.ca_cert if is_dir else None,
                )
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(_bad("-ca-cert", "NOMAD_CACERT", self.ca_cert, exc)) from None
        if bool(self.client_cert) != bool(self.client_key):
            raise ValueError(
                "a client certificate needs its key and the other way round: set both "
                "-client-cert (NOMAD_CLIENT_CERT) and -client-key (NOMAD_CLIENT_KEY)"
            )
        if self.client_cert:
            try:
                ctx.load_cert_chain(self.client_cert, self.client_key)
            except (OSError, ssl.SSLError) as exc:
                where = f"{self.client_cert!r} with key {self.client_key!r}"
                raise ValueError(
                    f"-client-cert/-client-key (NOMAD_CLIENT_CERT/NOMAD_CLIENT_KEY) = {where}: "
                    f"cannot use them: {_reason(exc)}"
                ) from None
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def extensions(self) -> dict[str, str]:
        """httpx request extensions: the name the certificate is checked for (and sent as SNI)."""
        return {"sni_hostname": self.tls_server_name} if self.tls_server_name else {}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _bad(flag: str, env: str, path: str, exc: Exception) -> str:
    return f"{flag} ({env}) = {path!r}: cannot use it as a CA certificate: {_reason(exc)}"


def hint(address: str, error: str, tls: TLSConfig) -> str:
    """What to do about a failed connection that looks like a TLS mismatch ('' if none)."""
    https = address.startswith("https://")
    # TLS 1.3 finishes the handshake before the agent checks the client's certificate, so a
    # refused certificate shows as the agent hanging up on the first request
    hung_up = "disconnected" in error or "reset" in error.lower()
    if "CERTIFICATE_VERIFY_FAILED" in error:
        if "Hostname mismatch" in error or "IP address mismatch" in error:
            return (
                "the agent's certificate does not name this address: set -tls-server-name "
                "(NOMAD_TLS_SERVER_NAME) to a name it carries, e.g. server.global.nomad"
            )
        return (
            "the agent's certificate is not trusted: pass the CA that signed it with -ca-cert "
            "(NOMAD_CACERT)"
        )
    if https and hung_up and tls.client_cert:
        return (
            "the agent refused the connection: is -client-cert (NOMAD_CLIENT_CERT) signed by "
            "the agent's CA?"
        )
    if "CERTIFICATE_REQUIRED" in error or "HANDSHAKE_FAILURE" in error or (https and hung_up):
        return (
            "the agent requires a client certificate (tls { verify_https_client = true }): "
            "pass -client-cert and -client-key (NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY)"
        )
    if https and ("WRONG_VERSION_NUMBER" in error or "RECORD_LAYER_FAILURE" in error):
        return "the agent speaks plain HTTP, not HTTPS: use an http:// address"
    if not https and hung_up:
        return (
            "if the agent serves HTTPS (tls { http = true }), use an https:// address "
            "(NOMAD_ADDR or -address) and its CA with -ca-cert (NOMAD_CACERT)"
        )
    return ""
