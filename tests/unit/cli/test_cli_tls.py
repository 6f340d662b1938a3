"""``nomadic tls ca create`` / ``tls cert create``: Nomad's file names and output, certificates
an agent accepts, and no overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from nomadic.cli.main import cli
from nomadic.tlsutil import HTTPTLS


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _sans(path: str) -> list[str]:
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in ext]


def test_ca_and_server_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _run("tls", "ca", "create") == (
        0,
        "==> CA certificate saved to: nomad-agent-ca.pem\n"
        "==> CA certificate key saved to: nomad-agent-ca-key.pem\n",
    )
    assert _run("tls", "cert", "create", "-server", "-additional-ipaddress", "10.0.0.5") == (
        0,
        "==> Using CA file nomad-agent-ca.pem and CA key nomad-agent-ca-key.pem\n"
        "==> Server Certificate saved to global-server-nomad.pem\n"
        "==> Server Certificate key saved to global-server-nomad-key.pem\n",
    )
    assert _sans("global-server-nomad.pem") == [
        "server.global.nomad",
        "localhost",
        "127.0.0.1",
        "10.0.0.5",
    ]
    assert (tmp_path / "global-server-nomad-key.pem").stat().st_mode & 0o077 == 0
    # an agent takes them for tls { http = true }
    HTTPTLS.load(
        "nomad-agent-ca.pem", "global-server-nomad.pem", "global-server-nomad-key.pem", True
    )
    code, output = _run("tls", "cert", "create", "-client", "-region", "eu")
    assert code == 0 and "eu-client-nomad.pem" in output
    assert _sans("eu-client-nomad.pem")[0] == "client.eu.nomad"
    assert _run("tls", "ca", "create") == (
        1,
        "File 'nomad-agent-ca.pem' already exists: move it away or remove it\n",
    )


def test_cert_without_a_ca_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = _run("tls", "cert", "create", "-cli")
    assert code == 1
    assert "cannot read nomad-agent-ca.pem: No such file or directory" in output
    assert "`nomadic tls ca create`, or pass -ca and -key" in output
    assert _run("tls", "cert", "create")[1] == "pass one of -server, -client or -cli\n"
