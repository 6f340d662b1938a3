"""The example third-party driver (plugins/driver-example, driver ``pycall``) is installed in
the dev environment: the dev agent loads it through its entry point, ``node status -verbose``
shows it healthy, and a job using it runs with its output in ``alloc logs``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "greeter" {
  type = "batch"
  group "g" {
    task "greet" {
      driver = "pycall"
      config {
        callable = "nomadic_driver_example.demo:greet"
        args     = ["nomad", "2"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
"""


def test_node_status_verbose_lists_drivers_with_health(dev_agent: AgentProcess) -> None:
    out = dev_agent.cli("node", "status", "-verbose", check=True).stdout
    header, row = out.splitlines()[:2]
    assert header.split()[-3:] == ["Address", "Version", "Drivers"]
    drivers = row.split()[-1].split(",")
    assert "pycall" in drivers and "raw_exec" in drivers
    node = dev_agent.get("/v1/nodes")[0]
    detail = dev_agent.cli("node", "status", "-verbose", node["ID"], check=True).stdout
    assert any(line.split()[:3] == ["pycall", "true", "true"] for line in detail.splitlines()), (
        detail
    )


def test_job_runs_on_the_example_driver(dev_agent: AgentProcess, tmp_path: Path) -> None:
    job = tmp_path / "greeter.hcl"
    job.write_text(textwrap.dedent(JOB))
    dev_agent.cli("job", "run", str(job), check=True)

    def complete() -> dict[str, Any] | None:
        allocs = dev_agent.get("/v1/job/greeter/allocations")
        done = [a for a in allocs if a["ClientStatus"] == "complete"]
        return done[0] if done else None

    alloc = wait_for(complete, timeout=60, what="the pycall task to complete")
    logs = dev_agent.cli("alloc", "logs", alloc["ID"][:8], check=True).stdout
    assert logs == "hello, nomad\nhello, nomad\n"
