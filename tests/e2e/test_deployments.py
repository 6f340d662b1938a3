"""Rolling updates, auto-revert and canaries on a real dev agent with raw_exec tasks, driven
through the CLI and the HTTP API as a user would."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

COUNT = 3
MAX_PARALLEL = 1
SLEEP = "while true; do sleep 0.2; done"

JOB = """
job "rolling" {{
  group "app" {{
    count = {count}
    update {{
      max_parallel      = {max_parallel}
      min_healthy_time  = "1s"
      healthy_deadline  = "30s"
      progress_deadline = "60s"
      auto_revert       = true
      canary            = {canary}
    }}
    restart {{
      attempts = 0
      mode     = "fail"
    }}
    task "sleeper" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", "{script}"]
      }}
      env {{
        REV = "{rev}"
      }}
      resources {{
        cpu    = 20
        memory = 16
      }}
    }}
  }}
}}
"""


def write_job(tmp: Path, rev: str, *, script: str = SLEEP, canary: int = 0) -> Path:
    path = tmp / f"rolling-{rev}.hcl"
    text = JOB.format(count=COUNT, max_parallel=MAX_PARALLEL, canary=canary, script=script, rev=rev)
    path.write_text(textwrap.dedent(text))
    return path


def deployments(agent: AgentProcess) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = agent.get("/v1/job/rolling/deployments")
    return found


def deployment_of(agent: AgentProcess, version: int) -> dict[str, Any] | None:
    return next((d for d in deployments(agent) if d["JobVersion"] == version), None)


def status_of(agent: AgentProcess, version: int) -> str:
    d = deployment_of(agent, version)
    return d["Status"] if d else ""


def live_allocs(agent: AgentProcess) -> list[dict[str, Any]]:
    allocs: list[dict[str, Any]] = agent.get("/v1/job/rolling/allocations")
    return [
        a
        for a in allocs
        if a["DesiredStatus"] == "run" and a["ClientStatus"] in ("pending", "running")
    ]


def healthy(alloc: dict[str, Any]) -> bool:
    status = alloc.get("DeploymentStatus") or {}
    return alloc["ClientStatus"] == "running" and status.get("Healthy") is True


def job_version(agent: AgentProcess) -> int:
    version: int = agent.get("/v1/job/rolling")["Version"]
    return version


def stable_versions(agent: AgentProcess) -> list[int]:
    versions = agent.get("/v1/job/rolling/versions")["Versions"]
    return sorted(v["Version"] for v in versions if v["Stable"])


class Watch:
    """Polls the allocations in the background: the fewest healthy ones seen."""

    def __init__(self, agent: AgentProcess) -> None:
        self.agent = agent
        self.fewest_healthy = COUNT
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                allocs = live_allocs(self.agent)
            except (RuntimeError, OSError):
                continue
            self.fewest_healthy = min(self.fewest_healthy, sum(map(healthy, allocs)))


@pytest.fixture(scope="module")
def deployed(dev_agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Version 0 of the job, run with `job run` (which follows its deployment to the end)."""
    tmp = tmp_path_factory.mktemp("rolling")
    result = dev_agent.cli("job", "run", str(write_job(tmp, "0")), check=True)
    assert "Monitoring deployment" in result.stdout, result.stdout
    assert "successful" in result.stdout and "Deployment completed successfully" in (
        result.stdout
    ), result.stdout
    yield tmp
    dev_agent.cli("job", "stop", "-purge", "rolling")


def test_a_rolling_update_replaces_one_alloc_at_a_time(
    dev_agent: AgentProcess, deployed: Path
) -> None:
    assert stable_versions(dev_agent) == [0]
    with Watch(dev_agent) as watch:
        dev_agent.cli("job", "run", "-detach", str(write_job(deployed, "1")), check=True)
        wait_for(
            lambda: status_of(dev_agent, 1) == "successful",
            timeout=90,
            what="the version 1 deployment to succeed",
        )
    assert watch.fewest_healthy >= COUNT - MAX_PARALLEL
    d = deployment_of(dev_agent, 1)
    assert d is not None
    state = d["TaskGroups"]["app"]
    assert (state["DesiredTotal"], state["PlacedAllocs"], state["HealthyAllocs"]) == (3, 3, 3)
    assert stable_versions(dev_agent) == [0, 1]
    status = dev_agent.cli("job", "status", "rolling", check=True).stdout
    assert "Latest Deployment" in status and "Deployment completed successfully" in status


def test_a_failing_version_is_reverted_to_the_stable_one(
    dev_agent: AgentProcess, deployed: Path
) -> None:
    before = job_version(dev_agent)
    bad = write_job(deployed, "bad", script="exit 1")
    dev_agent.cli("job", "run", "-detach", str(bad), check=True)
    failed_version = before + 1
    wait_for(
        lambda: status_of(dev_agent, failed_version) == "failed",
        timeout=90,
        what="the failing version's deployment to fail",
    )
    d = deployment_of(dev_agent, failed_version)
    assert d is not None
    stable = max(stable_versions(dev_agent))
    assert d["StatusDescription"] == (
        f"Failed due to unhealthy allocations - rolling back to job version {stable}"
    )
    reverted = failed_version + 1
    wait_for(
        lambda: status_of(dev_agent, reverted) == "successful",
        timeout=90,
        what="the reverted version to deploy",
    )
    job = dev_agent.get("/v1/job/rolling")
    assert job["TaskGroups"][0]["Tasks"][0]["Env"]["REV"] != "bad"
    assert len([a for a in live_allocs(dev_agent) if healthy(a)]) == COUNT


def test_a_canary_waits_for_promotion(dev_agent: AgentProcess, deployed: Path) -> None:
    version = job_version(dev_agent) + 1
    dev_agent.cli("job", "run", "-detach", str(write_job(deployed, "canary", canary=1)), check=True)

    def canary_healthy() -> dict[str, Any] | None:
        d = deployment_of(dev_agent, version)
        if d is None or d["TaskGroups"]["app"]["HealthyAllocs"] < 1:
            return None
        return d

    d = wait_for(canary_healthy, timeout=60, what="the canary to become healthy")
    assert d["StatusDescription"] == "Deployment is running but requires manual promotion"
    live = live_allocs(dev_agent)
    assert len(live) == COUNT + 1  # the old allocations keep running beside the canary
    [canary] = d["TaskGroups"]["app"]["PlacedCanaries"]
    shown = dev_agent.cli("alloc", "status", canary, check=True).stdout
    assert "Deployment Health   = healthy" in shown and "Canary              = true" in shown
    listed = dev_agent.cli("deployment", "list", check=True).stdout
    assert d["ID"][:8] in listed
    promoted = dev_agent.cli("deployment", "promote", "-detach", d["ID"][:8], check=True)
    assert "promoted" in promoted.stdout
    wait_for(
        lambda: status_of(dev_agent, version) == "successful",
        timeout=90,
        what="the promoted deployment to finish",
    )
    live = live_allocs(dev_agent)
    assert len(live) == COUNT and all(healthy(a) for a in live)
    status = dev_agent.cli("deployment", "status", d["ID"], check=True).stdout
    assert "Promoted" in status and "successful" in status
