"""Two regions, ``eu`` and ``us``, each a real agent (server + client) on loopback, federated.

What a user of federated Nomad regions notices: both regions list each other, a job whose
region is ``us`` submitted to ``eu`` runs in ``us`` only, ``-region us`` reads work from
``eu``, a multiregion job runs in both with each region's count and stops everywhere with
``-global``, and when ``us`` dies ``eu`` keeps working while ``us`` requests fail fast with an
error naming ``us``.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for
from nomadic.testing.regions import federated, region_agent

pytestmark = pytest.mark.e2e

JOB = """
job "%(name)s" {
  %(region)s
  datacenters = ["*"]
  %(multiregion)s
  group "web" {
    task "web" {
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

MULTIREGION = """
  multiregion {
    strategy {
      max_parallel = 1
    }
    region "eu" {
      count = 2
      meta {
        site = "europe"
      }
    }
    region "us" {
      count = 1
    }
  }
"""


@dataclass
class Regions:
    eu: AgentProcess
    us: AgentProcess


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    root = tmp_path_factory.mktemp("federation")
    us = region_agent(root, "us")
    eu = region_agent(root, "eu", join=f"127.0.0.1:{us.rpc_port}")  # federated by config
    with federated(us, eu):
        yield Regions(eu=eu, us=us)


def job_file(agent: AgentProcess, name: str, region: str = "", multiregion: str = "") -> Path:
    path = agent.workdir / f"{name}.hcl"
    line = f'region = "{region}"' if region else ""
    path.write_text(JOB % {"name": name, "region": line, "multiregion": multiregion})
    return path


def running(agent: AgentProcess, job: str, region: str = "") -> list[dict[str, Any]]:
    query = f"?region={region}" if region else ""
    allocs = agent.get(f"/v1/job/{job}/allocations{query}")
    return [a for a in allocs if a["ClientStatus"] == "running"]


def test_both_regions_list_each_other_and_all_servers(regions: Regions) -> None:
    rows = wait_for(
        lambda: _member_rows(regions.eu) if len(_member_rows(regions.eu)) == 2 else None,
        timeout=30,
        what="eu's server members to list both servers",
    )
    # Name Address Port Status Leader Raft Version Build Datacenter Region
    assert [(r[0], r[3], r[4], r[-2], r[-1]) for r in rows] == [
        ("eu1.eu", "alive", "true", "eu-1", "eu"),
        ("us1.us", "alive", "true", "us-1", "us"),
    ]
    assert regions.us.get("/v1/regions") == ["eu", "us"]


def _member_rows(agent: AgentProcess) -> list[list[str]]:
    out = agent.cli("server", "members", check=True).stdout.splitlines()
    assert out[0].split()[:5] == ["Name", "Address", "Port", "Status", "Leader"]
    return [line.split() for line in out[1:]]


def test_job_for_us_submitted_to_eu_runs_in_us(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    path = job_file(eu, "in-us", region="us")
    result = eu.cli("job", "run", str(path), check=True)  # monitored in us, through eu
    assert 'Evaluation "' in result.stdout or "Evaluation ID" in result.stdout
    wait_for(lambda: len(running(us, "in-us")) == 1, timeout=60, what="in-us running in us")
    us_node = us.get("/v1/nodes")[0]["ID"]
    assert running(us, "in-us")[0]["NodeID"] == us_node
    status, _ = eu.request("GET", "/v1/job/in-us")
    assert status == 404  # regions share no state

    # -region us reads from eu's agent
    shown = eu.cli("job", "status", "-region", "us", "in-us", check=True).stdout
    assert "running" in shown and us_node[:8] in shown
    allocs = eu.get("/v1/allocations?region=us")
    assert {a["JobID"] for a in allocs} >= {"in-us"}
    assert all(a["JobID"] != "in-us" for a in eu.get("/v1/allocations"))


def test_multiregion_job_runs_in_both_with_region_counts_and_stops_globally(
    regions: Regions,
) -> None:
    eu, us = regions.eu, regions.us
    path = job_file(eu, "everywhere", multiregion=MULTIREGION)
    result = eu.cli("job", "run", str(path), check=True)
    assert "Job registration successful" in result.stdout
    wait_for(lambda: len(running(eu, "everywhere")) == 2, timeout=60, what="2 allocs in eu")
    wait_for(lambda: len(running(us, "everywhere")) == 1, timeout=60, what="1 alloc in us")
    eu_job, us_job = eu.get("/v1/job/everywhere"), us.get("/v1/job/everywhere")
    assert (eu_job["Region"], eu_job["TaskGroups"][0]["Count"]) == ("eu", 2)
    assert (us_job["Region"], us_job["TaskGroups"][0]["Count"]) == ("us", 1)
    assert eu_job["Meta"] == {"site": "europe"} and not us_job["Meta"]

    shown = eu.cli("job", "status", "everywhere", check=True).stdout
    section = shown.split("Multiregion", 1)[1].splitlines()
    assert section[1].split()[:5] == ["Region", "Status", "Version", "Desired", "Running"]
    assert [line.split()[:6] for line in section[2:4]] == [  # shown
        ["eu", "running", "0", "2", "2", "-"],  # no update block: no deployments
        ["us", "running", "0", "1", "1", "-"],
    ], shown

    eu.cli("job", "stop", "-global", "-detach", "everywhere", check=True)
    for agent in (eu, us):
        assert agent.get("/v1/job/everywhere")["Stop"] is True
        wait_for(
            lambda a=agent: not running(a, "everywhere"),  # type: ignore[misc]
            timeout=60,
            what=f"everywhere stopped in {agent.workdir.name}",
        )


ROLLOUT = """
job "%(name)s" {
  datacenters = ["*"]
  multiregion {
    strategy {
      max_parallel = 1
      on_failure   = "%(on_failure)s"
    }
    region "eu" {
      meta {
        run = "%(eu_run)s"
      }
    }
    region "us" {
      meta {
        run = "%(us_run)s"
      }
    }
  }
  group "web" {
    update {
      max_parallel      = 1
      min_healthy_time  = "1s"
      healthy_deadline  = "20s"
      progress_deadline = "40s"
    }
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "web" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "${NOMAD_META_run}"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
"""


def deployment_status(agent: AgentProcess, job: str) -> str:
    status, body = agent.request("GET", f"/v1/job/{job}/deployment")
    if status != 200 or body.strip() in (b"", b"null"):
        return ""
    return str(json.loads(body)["Status"])


def run_rollout(
    regions: Regions, name: str, on_failure: str, us_run: str, eu_run: str = "sleep 300"
) -> None:
    path = regions.eu.workdir / f"{name}.hcl"
    values = {"name": name, "on_failure": on_failure, "us_run": us_run, "eu_run": eu_run}
    path.write_text(ROLLOUT % values)
    regions.eu.cli("job", "run", str(path), check=True)


def test_multiregion_rollout_runs_one_region_at_a_time_then_unblocks_all(
    regions: Regions,
) -> None:
    eu, us = regions.eu, regions.us
    run_rollout(regions, "rollout", "", "sleep 300")
    seen: list[tuple[str, str]] = []

    def both_successful() -> bool:
        pair = (deployment_status(eu, "rollout"), deployment_status(us, "rollout"))
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return pair == ("successful", "successful")

    wait_for(both_successful, timeout=90, interval=0.1, what=f"both successful (seen {seen})")
    shown = eu.cli("job", "status", "rollout", check=True).stdout.split("Multiregion", 1)[1]
    assert [line.split()[:6] for line in shown.splitlines()[2:4]] == [
        ["eu", "running", "0", "1", "1", "successful"],
        ["us", "running", "0", "1", "1", "successful"],
    ]
    assert ("running", "running") not in seen  # max_parallel = 1
    assert any(e in ("running", "blocked") and u == "pending" for e, u in seen), seen
    # eu (listed first) finished and waited, blocked, for us before both were unblocked
    assert any(e == "blocked" and u != "successful" for e, u in seen), seen


def test_a_failing_region_fails_every_region_with_fail_all(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    run_rollout(regions, "rollout-fail", "fail_all", "exit 3")
    wait_for(
        lambda: deployment_status(us, "rollout-fail") == "failed",
        timeout=90,
        what="us's deployment to fail (its task exits 3)",
    )
    wait_for(
        lambda: deployment_status(eu, "rollout-fail") == "failed",
        timeout=30,
        what="eu's deployment to be failed by on_failure = fail_all",
    )


def test_a_failing_first_region_fails_the_later_ones_by_default(regions: Regions) -> None:
    eu, us = regions.eu, regions.us
    run_rollout(regions, "rollout-first-fails", "", "sleep 300", eu_run="exit 3")
    wait_for(
        lambda: deployment_status(eu, "rollout-first-fails") == "failed",
        timeout=90,
        what="eu's deployment to fail (its task exits 3)",
    )
    wait_for(
        lambda: deployment_status(us, "rollout-first-fails") == "failed",
        timeout=30,
        what="us's pending deployment to be failed (it is listed after eu)",
    )
    assert not running(us, "rollout-first-fails")  # us never started


def test_killed_region_leaves_the_other_usable_with_a_clear_error(regions: Regions) -> None:
    """Runs last: it kills ``us``."""
    eu, us = regions.eu, regions.us
    us.stop(signal.SIGKILL)

    # before failure detection: the one us server refuses connections, the error is immediate
    start = time.monotonic()
    result = eu.cli("job", "status", "-region", "us", "in-us")
    assert result.returncode == 1
    assert 'No path to region "us"' in result.stderr
    assert time.monotonic() - start < 10

    # eu itself is unaffected: a job runs there promptly
    start = time.monotonic()
    eu.cli("job", "run", "-detach", str(job_file(eu, "in-eu")), check=True)
    wait_for(lambda: len(running(eu, "in-eu")) == 1, timeout=30, what="in-eu running in eu")
    assert time.monotonic() - start < 30

    # after the failure timeout: us is failed, never tried, and the error says when it was seen
    def us_failed() -> list[str] | None:
        rows = {r[0]: r for r in _member_rows(eu)}
        return rows["us1.us"] if rows["us1.us"][3] == "failed" else None

    wait_for(us_failed, timeout=30, what="eu to see us1.us failed")
    start = time.monotonic()
    status, body = eu.request("GET", "/v1/jobs?region=us")
    assert status == 500
    assert body.decode().startswith('No path to region "us": no live server known (last seen')
    assert time.monotonic() - start < 2
    assert eu.get("/v1/regions") == ["eu", "us"]  # known until reaped

    # a multiregion job is refused before anything is written anywhere
    path = job_file(eu, "needs-us", multiregion=MULTIREGION)
    result = eu.cli("job", "run", "-detach", str(path))
    assert result.returncode == 1
    assert 'No path to region "us"' in result.stderr
    assert eu.request("GET", "/v1/job/needs-us")[0] == 404

    # an operator who knows us is gone for good: force-leave marks it left
    eu.cli("server", "force-leave", "us1.us", check=True)
    assert {r[0]: r[3] for r in _member_rows(eu)}["us1.us"] == "left"
