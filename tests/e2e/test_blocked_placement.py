"""A job that fits no node is blocked, explained, and placed once a node that fits joins.

One server agent and one client agent of class "small"; the job asks for class "big". `job
run` exits 2 with the placement failure, `job status` and `eval status` explain it, and
starting a second client agent of class "big" unblocks the evaluation and runs the job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "big" {
  datacenters = ["*"]
  constraint {
    attribute = "${node.class}"
    value     = "big"
  }
  group "app" {
    task "app" {
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


def _client(root: Path, name: str, node_class: str, server: AgentProcess) -> AgentProcess:
    agent = AgentProcess(root / name, dev=False)
    with agent.config_path.open("a") as f:
        f.write(
            f'name = "{name}"\nclient {{\n  enabled = true\n  node_class = "{node_class}"\n'
            f'  servers = ["127.0.0.1:{server.rpc_port}"]\n}}\n'
            'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
        )
    return agent


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[AgentProcess]]:
    server = AgentProcess(tmp_path / "server", dev=False)
    with server.config_path.open("a") as f:
        f.write(
            'name = "server"\nserver {\n  enabled = true\n  bootstrap_expect = 1\n'
            "  num_schedulers = 1\n}\n"
        )
    started = [server]
    try:
        server.start(wait_ready=False)
        wait_for(lambda: server.get("/v1/status/leader"), timeout=60, what="a leader")
        small = _client(tmp_path, "small", "small", server)
        started.append(small)
        small.start(wait_ready=False)
        wait_for(
            lambda: [n for n in server.get("/v1/nodes") if n["Status"] == "ready"],
            timeout=60,
            what="the small client to register",
        )
        started.append(_client(tmp_path, "big", "big", server))
        yield started
    finally:
        for agent in reversed(started):
            agent.stop()


def test_blocked_job_is_explained_and_placed_when_a_fitting_node_joins(
    agents: list[AgentProcess], tmp_path: Path
) -> None:
    server, _small, big = agents
    path = tmp_path / "big.hcl"
    path.write_text(JOB)

    run = server.cli("job", "run", str(path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'Task Group "app" (failed to place 1 allocation):' in run.stdout
    assert '* Constraint "${node.class} = big": 1 nodes excluded by filter' in run.stdout
    assert "waiting for additional capacity to place remainder" in run.stdout

    status = server.cli("job", "status", "big", check=True).stdout
    assert 'Placement Failure\nTask Group "app":\n' in status
    evals = server.get("/v1/job/big/evaluations")
    blocked = [e for e in evals if e["Status"] == "blocked"]
    assert len(blocked) == 1 and blocked[0]["ClassEligibility"]
    done = next(e for e in evals if e["BlockedEval"])
    shown = server.cli("eval", "status", done["ID"], check=True).stdout
    assert "Placement Failures = true" in shown and "Failed Placements" in shown

    big.start(wait_ready=False)

    def running() -> bool:
        allocs = server.get("/v1/job/big/allocations")
        return any(a["ClientStatus"] == "running" and a["NodeName"] == "big" for a in allocs)

    wait_for(running, timeout=90, what="the job to run on the big node")
    unblocked = server.get(f"/v1/evaluation/{blocked[0]['ID']}")
    assert unblocked["Status"] == "complete"
    after = server.cli("job", "status", "big", check=True).stdout
    assert "Placement Failure" not in after
