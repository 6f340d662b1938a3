"""The HTTP API over TLS (``tls { http = true }``) with real agents: a server+client agent
serving HTTPS, and a client-only agent that also requires client certificates
(``verify_https_client``). The CLI works over https with ``-ca-cert`` or ``NOMAD_CACERT``, a
plain-http request is told to use https, and the server proxies ``alloc logs`` to the client
node over mutual TLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nomadic.api import APIError, Client, TLSConfig
from nomadic.testing.agent_process import AgentProcess, wait_for
from nomadic.testing.tls import CertFiles, make_ca, make_cert

pytestmark = pytest.mark.e2e

JOB = """
job "hello" {
  datacenters = ["*"]
  group "web" {
    constraint {
      attribute = "${node.unique.name}"
      value     = "https-client"
    }
    task "web" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo hello-over-https; exec sleep 300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
"""


def tls_block(ca: CertFiles, cert: CertFiles, verify_https_client: bool) -> str:
    return (
        f'tls {{\n  http = true\n  ca_file = "{ca.cert_file}"\n  cert_file = "{cert.cert_file}"\n'
        f'  key_file = "{cert.key_file}"\n'
        f"  verify_https_client = {str(verify_https_client).lower()}\n}}\n"
    )


@dataclass
class HTTPSCluster:
    ca: CertFiles
    client_cert: CertFiles
    server: AgentProcess  # -dev, https
    client: AgentProcess  # client-only, https + verify_https_client


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPSCluster]:
    root = tmp_path_factory.mktemp("https")
    ca = make_ca(root)
    server_cert, client_cert = make_cert(root, ca, "server"), make_cert(root, ca, "client")
    trust = ssl.create_default_context(cafile=ca.cert_file)
    server = AgentProcess(
        root / "server",
        extra_config='name = "https-server"\n' + tls_block(ca, server_cert, False),
        ssl_context=trust,
    )
    mtls = ssl.create_default_context(cafile=ca.cert_file)
    mtls.load_cert_chain(client_cert.cert_file, client_cert.key_file)
    client = AgentProcess(
        root / "client",
        dev=False,
        extra_config=(
            f'name = "https-client"\nclient {{\n  enabled = true\n'
            f'  servers = ["127.0.0.1:{server.rpc_port}"]\n}}\n'
            'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
            + tls_block(ca, client_cert, True)
        ),
        ssl_context=mtls,
    )
    try:
        server.start()
        client.start(wait_ready=False)
        wait_for(
            lambda: len([n for n in server.get("/v1/nodes") if n["Status"] == "ready"]) == 2,
            timeout=60,
            what="both nodes ready",
        )
        yield HTTPSCluster(ca, client_cert, server, client)
    except BaseException:
        for agent in (server, client):
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        client.stop()
        server.stop()


def test_nodes_advertise_https(cluster: HTTPSCluster) -> None:
    addrs = {n["Name"]: n["Address"] for n in cluster.server.get("/v1/nodes")}
    assert addrs.keys() == {"https-server", "https-client"}
    node = next(n for n in cluster.server.get("/v1/nodes") if n["Name"] == "https-client")
    detail = cluster.server.get(f"/v1/node/{node['ID']}")
    assert detail["HTTPAddr"] == f"https://127.0.0.1:{cluster.client.http_port}"


def test_job_run_status_and_proxied_logs_with_ca_cert(
    cluster: HTTPSCluster, tmp_path: Path
) -> None:
    server = cluster.server
    path = tmp_path / "hello.hcl"
    path.write_text(JOB)
    ca = ["-ca-cert", cluster.ca.cert_file]
    server.cli("job", "run", "-detach", *ca, str(path), check=True)

    def running() -> str | None:
        allocs = server.get("/v1/job/hello/allocations")
        return next((a["ID"] for a in allocs if a["ClientStatus"] == "running"), None)

    alloc_id = wait_for(running, timeout=60, what="the hello allocation to run")
    status = server.cli("job", "status", *ca, "hello", check=True)
    assert "running" in status.stdout

    # the allocation runs on the client-only agent: the server proxies the request to it
    # over https, presenting its own certificate (the client agent verifies callers)
    def logged() -> str | None:
        result = server.cli("alloc", "logs", *ca, alloc_id, "web")
        return result.stdout if "hello-over-https" in result.stdout else None

    logs = wait_for(logged, timeout=30, what="the proxied log line")
    assert logs == "hello-over-https\n"
    by_env = server.cli("job", "status", "hello", env={"NOMAD_CACERT": cluster.ca.cert_file})
    assert by_env.returncode == 0, by_env.stderr
    assert by_env.stdout.splitlines()[0] == status.stdout.splitlines()[0]  # "ID = hello"
    assert "running" in by_env.stdout


def test_without_the_ca_the_cli_says_to_pass_it(cluster: HTTPSCluster) -> None:
    result = cluster.server.cli("job", "status")
    assert result.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert "pass the CA that signed it with -ca-cert (NOMAD_CACERT)" in result.stderr


def test_plain_http_is_told_to_use_https(cluster: HTTPSCluster) -> None:
    plain = f"http://127.0.0.1:{cluster.server.http_port}"
    result = cluster.server.cli("job", "status", env={"NOMAD_ADDR": plain})
    assert result.returncode == 1
    assert "use an https:// address (NOMAD_ADDR or -address)" in result.stderr


def test_verify_https_client_requires_a_certificate_signed_by_the_ca(
    cluster: HTTPSCluster,
) -> None:
    address, ca = cluster.client.address, cluster.ca.cert_file
    with (
        Client(address, tls=TLSConfig(ca_cert=ca)) as anonymous,
        pytest.raises(APIError, match="requires a client certificate"),
    ):
        anonymous.agent.self()
    cert = cluster.client_cert
    tls = TLSConfig(ca_cert=ca, client_cert=cert.cert_file, client_key=cert.key_file)
    with Client(address, tls=tls) as client:
        assert client.agent.self()["config"]["NodeName"] == "https-client"
