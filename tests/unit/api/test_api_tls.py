"""The API client and CLI over HTTPS: the CA, client certificates, server name, skip-verify,
and the hints a user gets when the TLS settings do not match the agent's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))

from cli_agent import Agent, serve_agent
from click.testing import CliRunner

from nomadic.api import APIError, Client, TLSConfig
from nomadic.cli.main import cli
from nomadic.testing.tls import CertFiles, make_ca, make_cert
from nomadic.tlsutil import HTTPTLS

TLS_ENV = (
    "NOMAD_CACERT",
    "NOMAD_CLIENT_CERT",
    "NOMAD_CLIENT_KEY",
    "NOMAD_TLS_SERVER_NAME",
    "NOMAD_SKIP_VERIFY",
)


@dataclass
class PKI:
    ca: CertFiles
    server: CertFiles
    client: CertFiles


@pytest.fixture(autouse=True)
def _no_tls_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TLS_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    ca = make_ca(tmp_path)
    return PKI(ca, make_cert(tmp_path, ca, "server"), make_cert(tmp_path, ca, "client"))


def _agent(tmp_path: Path, pki: PKI, verify_https_client: bool) -> Iterator[Agent]:
    tls = HTTPTLS.load(
        pki.ca.cert_file, pki.server.cert_file, pki.server.key_file, verify_https_client
    )
    yield from serve_agent(tmp_path, tls.server_context())


@pytest.fixture
def https_agent(tmp_path: Path, pki: PKI) -> Iterator[Agent]:
    yield from _agent(tmp_path, pki, verify_https_client=False)


@pytest.fixture
def mtls_agent(tmp_path: Path, pki: PKI) -> Iterator[Agent]:
    yield from _agent(tmp_path, pki, verify_https_client=True)


def _regions(address: str, tls: TLSConfig | None = None) -> list[str]:
    with Client(address, tls=tls) as client:
        return client.status.regions()


def test_https_with_the_ca_works(https_agent: Agent, pki: PKI) -> None:
    assert _regions(https_agent.address, TLSConfig(ca_cert=pki.ca.cert_file)) == ["global"]


def test_env_vars_configure_tls(
    https_agent: Agent, pki: PKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOMAD_ADDR", https_agent.address)
    monkeypatch.setenv("NOMAD_CACERT", pki.ca.cert_file)
    monkeypatch.setenv("NOMAD_TLS_SERVER_NAME", "server.global.nomad")
    with Client() as client:
        assert client.tls == TLSConfig(
            ca_cert=pki.ca.cert_file, tls_server_name="server.global.nomad"
        )
        assert client.status.regions() == ["global"]


def test_untrusted_certificate_says_to_pass_the_ca(https_agent: Agent) -> None:
    with pytest.raises(APIError) as err:
        _regions(https_agent.address, TLSConfig())
    assert err.value.status == 0
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert "pass the CA that signed it with -ca-cert (NOMAD_CACERT)" in str(err.value)


def test_skip_verify_accepts_any_certificate(https_agent: Agent) -> None:
    assert _regions(https_agent.address, TLSConfig(insecure=True)) == ["global"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [("server.global.nomad", True), ("server.eu.nomad", False)],
    ids=["role-name", "wrong-name"],
)
def test_tls_server_name_is_what_the_certificate_is_checked_for(
    https_agent: Agent, pki: PKI, name: str, ok: bool
) -> None:
    tls = TLSConfig(ca_cert=pki.ca.cert_file, tls_server_name=name)
    if ok:
        assert _regions(https_agent.address, tls) == ["global"]
        return
    with pytest.raises(APIError, match="does not name this address: set -tls-server-name"):
        _regions(https_agent.address, tls)


def test_plain_http_to_an_https_agent_suggests_https(https_agent: Agent) -> None:
    plain = https_agent.address.replace("https://", "http://")
    with pytest.raises(APIError) as err:
        _regions(plain)
    assert "use an https:// address (NOMAD_ADDR or -address)" in str(err.value)
    assert "-ca-cert (NOMAD_CACERT)" in str(err.value)


def test_verify_https_client_refuses_a_caller_without_a_certificate(
    mtls_agent: Agent, pki: PKI
) -> None:
    with pytest.raises(APIError, match="requires a client certificate"):
        _regions(mtls_agent.address, TLSConfig(ca_cert=pki.ca.cert_file))
    tls = TLSConfig(
        ca_cert=pki.ca.cert_file,
        client_cert=pki.client.cert_file,
        client_key=pki.client.key_file,
    )
    assert _regions(mtls_agent.address, tls) == ["global"]


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        (
            TLSConfig(ca_cert="/nonexistent/ca.pem"),
            "-ca-cert (NOMAD_CACERT) = '/nonexistent/ca.pem': cannot use it",
        ),
        (TLSConfig(client_cert="c.pem"), "set both -client-cert (NOMAD_CLIENT_CERT) and"),
        (
            TLSConfig(client_cert="/nonexistent/c.pem", client_key="/nonexistent/k.pem"),
            "-client-cert/-client-key (NOMAD_CLIENT_CERT/NOMAD_CLIENT_KEY) = '/nonexistent/c.pem'",
        ),
    ],
    ids=["missing-ca", "cert-without-key", "missing-cert"],
)
def test_unusable_tls_files_are_named(tls: TLSConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Client("https://127.0.0.1:1", tls=tls)


def test_cli_flags_reach_an_mtls_agent(mtls_agent: Agent, pki: PKI) -> None:
    runner = CliRunner()
    env = {"NOMAD_ADDR": mtls_agent.address}
    flags = [
        "-ca-cert",
        pki.ca.cert_file,
        "-client-cert",
        pki.client.cert_file,
        "-client-key",
        pki.client.key_file,
    ]
    ok = runner.invoke(cli, ["job", "status", *flags], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output == "No running jobs\n"
    refused = runner.invoke(cli, ["job", "status", "-ca-cert", pki.ca.cert_file], env=env)
    assert refused.exit_code == 1
    assert "requires a client certificate" in refused.output


def test_cli_names_an_unreadable_ca_file() -> None:
    result = CliRunner().invoke(
        cli, ["job", "status", "-ca-cert", "/nonexistent/ca.pem"], env={"NOMAD_ADDR": "https://x"}
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error initializing client: -ca-cert (NOMAD_CACERT) = '/nonexistent/ca.pem'"
    )
