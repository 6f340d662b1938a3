"""GPUs end to end: a dev agent whose PATH has an ``nvidia-smi`` (a script standing in for
NVIDIA's tool) fingerprints two GPUs; ``job plan`` shows the dry run; a job asking for one GPU
runs with a GPU instance assigned and sees it in ``NVIDIA_VISIBLE_DEVICES``; a job asking for
three is explained as unplaceable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

SMI = """#!/bin/sh
echo 'GPU-1111, Tesla T4, 15360, 70.00, 1590, 535.104.05'
echo 'GPU-2222, Tesla T4, 15360, 70.00, 1590, 535.104.05'
"""

JOB = """
job "%(name)s" {
  datacenters = ["*"]
  group "train" {
    task "train" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo gpus=$NVIDIA_VISIBLE_DEVICES; exec sleep 300"]
      }
      resources {
        cpu    = 20
        memory = 16
        device "nvidia/gpu" {
          count = %(count)d
          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "12 GiB"
          }
        }
      }
    }
  }
}
"""


@pytest.fixture
def gpu_agent(tmp_path: Path) -> Iterator[AgentProcess]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    agent = AgentProcess(tmp_path / "agent", env=env)
    try:
        agent.start()
        yield agent
    finally:
        agent.stop()


def _job(tmp_path: Path, name: str, count: int) -> Path:
    path = tmp_path / f"{name}.hcl"
    path.write_text(JOB % {"name": name, "count": count})
    return path


def test_gpu_job_is_planned_placed_and_explained(gpu_agent: AgentProcess, tmp_path: Path) -> None:
    (node,) = gpu_agent.get("/v1/nodes")
    detail = gpu_agent.get(f"/v1/node/{node['ID']}")
    (group,) = detail["NodeResources"]["Devices"]
    assert (group["Vendor"], group["Type"], group["Name"]) == ("nvidia", "gpu", "Tesla T4")

    one = _job(tmp_path, "one", 1)
    plan = gpu_agent.cli("job", "plan", str(one))
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert plan.stdout.startswith('+ Job: "one"\n+ Task Group: "train" (1 create)\n')
    assert "- All tasks successfully allocated." in plan.stdout
    assert "nomadic job run -check-index 0 " in plan.stdout

    run = gpu_agent.cli("job", "run", "-check-index", "0", str(one))
    assert run.returncode == 0, run.stdout + run.stderr

    def running() -> dict[str, object] | None:
        allocs = gpu_agent.get("/v1/job/one/allocations")
        live = [a for a in allocs if a["ClientStatus"] == "running"]
        return gpu_agent.get(f"/v1/allocation/{live[0]['ID']}") if live else None

    alloc = wait_for(running, timeout=60, what="the GPU job to run")
    (device,) = alloc["AllocatedResources"]["Tasks"]["train"]["Devices"]  # type: ignore[index]
    assert device["Name"] == "Tesla T4" and len(device["DeviceIDs"]) == 1
    alloc_id = str(alloc["ID"])

    def logged() -> bool:
        out = gpu_agent.cli("alloc", "logs", alloc_id, "train").stdout
        return f"gpus={device['DeviceIDs'][0]}" in out

    wait_for(logged, timeout=30, what="the task to see NVIDIA_VISIBLE_DEVICES")

    again = gpu_agent.cli("job", "run", "-check-index", "0", str(one))
    assert again.returncode == 1 and "already exists" in again.stderr

    three = _job(tmp_path, "three", 3)
    failed = gpu_agent.cli("job", "run", str(three))
    assert failed.returncode == 2
    assert '* Constraint "missing devices": 1 nodes excluded by filter' in failed.stdout
