"""``nomadic deployment list/status`` and ``job status``'s Latest Deployment, against a real
HTTP app over fakes (the deployment written straight into the fake server's state)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_agent import Agent, scrub
from http_fakes import web_job

from nomadic.structs import Deployment, DeploymentState

DEPLOYMENT_ID = "8b1e0b2c-1111-2222-3333-444455556666"


def _deploy(agent: Agent, **state: int) -> None:
    group = DeploymentState(
        desired_total=3, placed_allocs=2, healthy_allocs=1, progress_deadline=600_000_000_000
    )
    for name, value in state.items():
        setattr(group, name, value)
    d = Deployment(
        id=DEPLOYMENT_ID,
        job_id="web",
        job_version=1,
        task_groups={"web": group},
        status="running",
        status_description="Deployment is running",
    )
    agent.server.write(lambda i: agent.server.store.upsert_deployment(i, d))


def test_deployment_list_prints_nomads_table(agent: Agent) -> None:
    assert agent.run("deployment", "list").output == "No deployments found\n"
    _deploy(agent)
    result = agent.run("deployment", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ID        Job ID  Job Version  Status   Description",
        "8b1e0b2c  web     1            running  Deployment is running",
    ]


def test_deployment_status_by_prefix(agent: Agent) -> None:
    _deploy(agent, desired_canaries=1)
    result = agent.run("deployment", "status", "8b1e")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ID          = 8b1e0b2c",
        "Job ID      = web",
        "Job Version = 1",
        "Status      = running",
        "Description = Deployment is running",
        "",
        "Deployed",
        "Task Group  Promoted  Desired  Canaries  Placed  Healthy  Unhealthy  Progress Deadline",
        "web         false     3        1         2       1        0          600s",
    ]


def test_deployment_status_unknown_exits_1(agent: Agent) -> None:
    result = agent.run("deployment", "status", "ffff")
    assert result.exit_code == 1
    assert 'No deployment(s) with prefix or id "ffff" found' in result.output


def test_job_status_shows_the_latest_deployment(agent: Agent, tmp_path: Path) -> None:
    path = tmp_path / "web.json"
    path.write_text(json.dumps({"Job": web_job()}))
    agent.server.add_node()
    agent.run("job", "run", "-detach", str(path))
    _deploy(agent)
    result = agent.run("job", "status", "web")
    assert result.exit_code == 0, result.output
    lines = scrub(result.output).splitlines()
    start = lines.index("Latest Deployment")
    assert lines[start : start + 8] == [
        "Latest Deployment",
        "ID          = 8b1e0b2c",
        "Status      = running",
        "Description = Deployment is running",
        "",
        "Deployed",
        "Task Group  Desired  Placed  Healthy  Unhealthy  Progress Deadline",
        "web         3        2       1        0          600s",
    ]


def test_top_level_status_finds_a_deployment(agent: Agent) -> None:
    _deploy(agent)
    result = agent.run("status", "8b1e0b")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["ID          = 8b1e0b2c", "Job ID      = web"]
