"""Namespaces and node pools across two federated regions, each a real agent on loopback:
``eu`` is authoritative, ``us`` replicates from it.

What a user notices: a namespace created in eu shows up in us; one created through us is
written in eu (there at once) and then shows up in us; deleting in eu removes it in us; node
pools travel the same way; with eu dead, us keeps its copies and runs jobs in them, while a
namespace write through us fails with an error naming eu.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for
from nomadic.testing.regions import federated, region_agent

pytestmark = pytest.mark.e2e

JOB = """
job "sleeper" {
  namespace   = "web"
  datacenters = ["*"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
"""


@dataclass
class Regions:
    eu: AgentProcess
    us: AgentProcess


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    root = tmp_path_factory.mktemp("global-objects")
    eu = region_agent(root, "eu")
    us = region_agent(
        root,
        "us",
        join=f"127.0.0.1:{eu.rpc_port}",
        server_extra='  authoritative_region = "eu"\n  replication_backoff = "500ms"\n',
    )
    with federated(eu, us):
        yield Regions(eu=eu, us=us)


def names(agent: AgentProcess, path: str) -> list[str]:
    found: list[dict[str, Any]] = agent.get(path)
    return [o["Name"] for o in found]


def test_namespace_created_in_eu_appears_in_us_and_is_deleted_with_it(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    eu.cli("namespace", "apply", "-description", "from eu", "alpha", check=True)
    wait_for(
        lambda: "alpha" in names(us, "/v1/namespaces"), timeout=30, what="alpha replicated to us"
    )
    assert us.get("/v1/namespace/alpha")["Description"] == "from eu"
    eu.cli("namespace", "delete", "alpha", check=True)
    wait_for(
        lambda: "alpha" not in names(us, "/v1/namespaces"), timeout=30, what="alpha gone in us"
    )


def test_namespace_created_through_us_is_written_in_eu(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    done = us.cli("namespace", "apply", "-description", "via us", "web", check=True)
    assert done.stdout == 'Successfully applied namespace "web"!\n'
    assert eu.get("/v1/namespace/web")["Description"] == "via us"  # eu has it already
    wait_for(lambda: "web" in names(us, "/v1/namespaces"), timeout=30, what="web in us")
    assert names(eu, "/v1/namespaces") == names(us, "/v1/namespaces") == ["default", "web"]


def test_node_pools_replicate_too(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    us.cli("node", "pool", "apply", "-description", "GPUs", "gpu", check=True)
    assert eu.get("/v1/node/pool/gpu")["Description"] == "GPUs"
    wait_for(lambda: "gpu" in names(us, "/v1/node/pools"), timeout=30, what="gpu in us")
    refused = us.cli("node", "pool", "delete", "all")
    assert refused.returncode == 1
    assert 'deleting node pool "all" is not allowed' in refused.stderr


def test_us_keeps_its_replicas_when_eu_is_gone(regions: Regions) -> None:
    """Runs last: it kills eu."""
    eu, us = regions.eu, regions.us
    wait_for(lambda: "web" in names(us, "/v1/namespaces"), timeout=30, what="web in us")
    eu.stop(signal.SIGKILL)
    assert names(us, "/v1/namespaces") == ["default", "web"]
    job = us.workdir / "sleeper.hcl"
    job.write_text(JOB)
    us.cli("job", "run", "-detach", str(job), check=True)  # into the replicated namespace
    wait_for(
        lambda: any(
            a["ClientStatus"] == "running"
            for a in us.get("/v1/job/sleeper/allocations?namespace=web")
        ),
        timeout=60,
        what="the sleeper running in us",
    )
    refused = us.cli("namespace", "apply", "late")
    assert refused.returncode == 1
    assert 'region "eu"' in refused.stderr
    assert names(us, "/v1/namespaces") == ["default", "web"]
