"""Namespaces and node pools on a real dev agent whose client sits in pool "gpu": the pool is
created when the client registers, jobs need an existing namespace and pool, and objects in
use cannot be deleted."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "sleeper" {
  namespace   = "%s"
  node_pool   = "gpu"
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


@pytest.fixture(scope="module")
def gpu_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    agent = AgentProcess(
        tmp_path_factory.mktemp("gpu-agent"), extra_config='client {\n  node_pool = "gpu"\n}\n'
    )
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


def _job_file(tmp_path: Path, namespace: str) -> str:
    path = tmp_path / f"sleeper-{namespace}.hcl"
    path.write_text(textwrap.dedent(JOB % namespace))
    return str(path)


def test_jobs_run_in_a_namespace_and_pool_that_exist(
    gpu_agent: AgentProcess, tmp_path: Path
) -> None:
    pools = gpu_agent.cli("node", "pool", "list", check=True).stdout
    assert "gpu" in pools.split()  # created when the client registered
    missing = gpu_agent.cli("job", "run", "-detach", _job_file(tmp_path, "web"))
    assert missing.returncode == 1
    assert 'namespace "web" does not exist' in missing.stderr + missing.stdout

    applied = gpu_agent.cli("namespace", "apply", "-description", "Web team", "web", check=True)
    assert applied.stdout == 'Successfully applied namespace "web"!\n'
    gpu_agent.cli("job", "run", "-detach", _job_file(tmp_path, "web"), check=True)

    def running() -> list[dict[str, Any]] | None:
        allocs: list[dict[str, Any]] = gpu_agent.get("/v1/job/sleeper/allocations?namespace=web")
        return allocs if allocs and allocs[0]["ClientStatus"] == "running" else None

    wait_for(running, timeout=60, what="the sleeper to run in namespace web")
    jobs = gpu_agent.cli("node", "pool", "jobs", "gpu", check=True).stdout
    assert "sleeper" in jobs and "web" in jobs

    refused = gpu_agent.cli("namespace", "delete", "web")
    assert refused.returncode == 1
    assert 'namespace "web" has non-terminal jobs' in refused.stderr + refused.stdout
    refused = gpu_agent.cli("node", "pool", "delete", "gpu")
    assert refused.returncode == 1
    assert 'node pool "gpu" has nodes' in refused.stderr + refused.stdout

    gpu_agent.cli("job", "stop", "-purge", "-namespace", "web", "sleeper", check=True)
    deleted = gpu_agent.cli("namespace", "delete", "web", check=True)
    assert deleted.stdout == 'Successfully deleted namespace "web"!\n'
