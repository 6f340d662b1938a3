"""``job run`` / ``job status`` / ``job stop -global`` of a multiregion job, and a job's region
choosing where the CLI sends it."""

from __future__ import annotations

from pathlib import Path

from cli_agent import Agent

JOB = """
job "web" {
  %s
  datacenters = ["dc1"]
  group "web" {
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["1000"]
      }
    }
  }
}
"""

MULTIREGION = """
  multiregion {
    region "global" {
      count = 2
    }
    region "us" {}
  }
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "web.hcl"
    path.write_text(JOB % body)
    return path


def test_multiregion_job_is_not_monitored_and_status_shows_every_region(
    agent: Agent, tmp_path: Path
) -> None:
    agent.server.add_node()
    result = agent.run("job", "run", str(write(tmp_path, MULTIREGION)))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Job registration successful"
    result = agent.run("job", "status", "web")
    assert result.exit_code == 0, result.output
    section = result.output.split("\nMultiregion\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[0].split() == [
        "Region",
        "Status",
        "Version",
        "Desired",
        "Running",
        "Deployment",
        "Datacenters",
    ]
    # (the fake server registers the job as given: no per-region copies)
    assert section[1].split()[:6] == ["global", "running", "0", "1", "1", "-"]
    # the fake agent knows no server of "us": its row says so, the command still succeeds
    assert section[2].split(None, 1) == [
        "us",
        'unreachable: No path to region "us": unknown',
    ]


def test_a_jobs_region_picks_where_the_cli_sends_it(agent: Agent, tmp_path: Path) -> None:
    result = agent.run("job", "run", "-detach", str(write(tmp_path, 'region = "us"')))
    assert result.exit_code == 1
    assert 'No path to region "us"' in result.output
    # -region wins over the job's region
    result = agent.run("job", "run", "-detach", "-region", "global", str(write(tmp_path, "")))
    assert result.exit_code == 0, result.output


def test_job_stop_global_sends_global(agent: Agent, tmp_path: Path) -> None:
    agent.server.add_node()
    agent.run("job", "run", "-detach", str(write(tmp_path, "")))
    result = agent.run("job", "stop", "-global", "-detach", "web")
    assert result.exit_code == 0, result.output
    assert agent.server.store.snapshot().job_by_id("default", "web").stop  # type: ignore[union-attr]
