"""The docker driver end to end: ``nomadic job run`` on a dev agent starts a busybox httpd
container reachable on the host port the scheduler allocated, ``alloc logs`` shows its
output, and stopping the job removes the container."""

from __future__ import annotations

import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

IMAGE = "nomadic/busybox:test"

JOB = """
job "dockerweb" {
  group "web" {
    network {
      port "http" {
        to = 8080
      }
    }
    task "httpd" {
      driver = "docker"
      config {
        image   = "%s"
        command = "sh"
        args    = [
          "-c",
          "echo hello-from-docker > /local/index.html; echo serving on 8080; exec $HTTPD",
        ]
        ports   = ["http"]
      }
      env {
        HTTPD = "httpd -f -p 8080 -h /local"
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
"""


def docker_client() -> Any:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.images.get(IMAGE)
    except Exception as exc:
        pytest.skip(
            f"dockerd or the test image is unavailable ({exc}); run .ci/setup.d/20-docker.sh"
        )
    return client


def test_busybox_httpd_on_mapped_port(dev_agent: AgentProcess, tmp_path: Path) -> None:
    client = docker_client()
    node = dev_agent.get("/v1/nodes")[0]
    docker_info = dev_agent.get(f"/v1/node/{node['ID']}")["Drivers"]["docker"]
    assert docker_info["Detected"] and docker_info["Healthy"], docker_info

    job = tmp_path / "dockerweb.hcl"
    job.write_text(textwrap.dedent(JOB % IMAGE))
    dev_agent.cli("job", "run", str(job), check=True)

    def running() -> dict[str, Any] | None:
        allocs = dev_agent.get("/v1/job/dockerweb/allocations")
        live = [a for a in allocs if a["ClientStatus"] == "running"]
        return live[0] if live else None

    stub = wait_for(running, timeout=60, what="the docker task to be running")
    alloc = dev_agent.get(f"/v1/allocation/{stub['ID']}")
    port = next(p["Value"] for p in alloc["AllocatedResources"]["Shared"]["Ports"])

    def body() -> bytes | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                return bytes(resp.read())
        except OSError:
            return None

    assert wait_for(body, timeout=30, what=f"httpd on port {port}") == b"hello-from-docker\n"
    containers = client.containers.list(
        filters={"label": f"com.hashicorp.nomad.alloc_id={stub['ID']}"}
    )
    assert len(containers) == 1

    def logged() -> str | None:
        out = dev_agent.cli("alloc", "logs", stub["ID"][:8], "httpd").stdout
        return out if "serving on 8080" in out else None

    wait_for(logged, timeout=30, what="the container's output in alloc logs")

    dev_agent.cli("job", "stop", "dockerweb", check=True)

    def removed() -> bool:
        return not client.containers.list(
            all=True, filters={"label": f"com.hashicorp.nomad.alloc_id={stub['ID']}"}
        )

    wait_for(removed, timeout=60, what="the container to be removed")
