"""Host volumes through a real agent: ``client { host_volume }`` offers them, the scheduler places
only on nodes that have them, exec mounts them read-write or read-only, and a driver that cannot
mount refuses with a clear event."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def volumes_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AgentProcess, Path]]:
    host = tmp_path_factory.mktemp("volumes")
    (host / "shared").mkdir()
    (host / "shared").chmod(0o777)  # exec tasks run as nobody
    (host / "config").mkdir()
    (host / "config" / "settings.txt").write_text("mode=prod\n")
    config = textwrap.dedent(
        f"""
        client {{
          host_volume "shared" {{
            path = "{host / "shared"}"
          }}
          host_volume "config" {{
            path      = "{host / "config"}"
            read_only = true
          }}
        }}
        """
    )
    agent = AgentProcess(tmp_path_factory.mktemp("agent"), extra_config=config)
    agent.start()
    try:
        yield agent, host
    finally:
        agent.stop()


def job_hcl(name: str, driver: str, volumes: str, mounts: str, script: str) -> str:
    return textwrap.dedent(
        f"""
        job "{name}" {{
          type = "batch"
          group "g" {{
            restart {{
              attempts = 0
              mode     = "fail"
            }}
            reschedule {{
              attempts  = 0
              unlimited = false
            }}
            {volumes}
            task "t" {{
              driver = "{driver}"
              {mounts}
              config {{
                command = "/bin/sh"
                args    = ["-c", "{script}"]
              }}
              resources {{
                cpu    = 100
                memory = 64
              }}
            }}
          }}
        }}
        """
    )


def run(agent: AgentProcess, tmp_path: Path, name: str, hcl: str) -> None:
    path = tmp_path / f"{name}.hcl"
    path.write_text(hcl)
    agent.cli("job", "run", "-detach", str(path), check=True)


def finished(agent: AgentProcess, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        allocs = agent.get(f"/v1/job/{name}/allocations")
        ended = [a for a in allocs if a["ClientStatus"] in ("complete", "failed")]
        return agent.get(f"/v1/allocation/{ended[0]['ID']}") if ended else None

    return wait_for(done, timeout=120, what=f"job {name} to finish")


def test_node_advertises_its_host_volumes(volumes_agent: tuple[AgentProcess, Path]) -> None:
    agent, host = volumes_agent
    node = agent.get(f"/v1/node/{agent.get('/v1/nodes')[0]['ID']}")
    assert node["HostVolumes"] == {
        "config": {"Name": "config", "Path": str(host / "config"), "ReadOnly": True},
        "shared": {"Name": "shared", "Path": str(host / "shared"), "ReadOnly": False},
    }


def test_exec_task_writes_to_one_volume_and_reads_another(
    volumes_agent: tuple[AgentProcess, Path], tmp_path: Path
) -> None:
    agent, host = volumes_agent
    node = agent.get(f"/v1/node/{agent.get('/v1/nodes')[0]['ID']}")
    if not node["Drivers"].get("exec", {}).get("Healthy"):
        pytest.skip(f"exec is not healthy here: {node['Drivers'].get('exec')}")
    volumes = """
            volume "out" {
              type   = "host"
              source = "shared"
            }
            volume "conf" {
              type      = "host"
              source    = "config"
              read_only = true
            }"""
    mounts = """
              volume_mount {
                volume      = "out"
                destination = "/srv/out"
              }
              volume_mount {
                volume      = "conf"
                destination = "/srv/conf"
              }"""
    script = (
        "cat /srv/conf/settings.txt; echo written-by-task > /srv/out/result.txt; "
        "touch /srv/conf/new 2>/dev/null && echo ro-broken || echo ro-ok"
    )
    run(agent, tmp_path, "vol-exec", job_hcl("vol-exec", "exec", volumes, mounts, script))
    alloc = finished(agent, "vol-exec")
    stderr = agent.cli("alloc", "logs", "-stderr", alloc["ID"][:8], "t").stdout
    events = [e["DisplayMessage"] for e in alloc["TaskStates"]["t"]["Events"]]
    assert alloc["ClientStatus"] == "complete", (events, stderr)
    out = agent.cli("alloc", "logs", alloc["ID"][:8], "t", check=True).stdout
    assert out.splitlines() == ["mode=prod", "ro-ok"]
    assert (host / "shared" / "result.txt").read_text() == "written-by-task\n"
    assert not (host / "config" / "new").exists()


def test_missing_volume_blocks_placement_with_the_reason(
    volumes_agent: tuple[AgentProcess, Path], tmp_path: Path
) -> None:
    agent, _ = volumes_agent
    volumes = """
            volume "db" {
              type   = "host"
              source = "postgres"
            }
            volume "cfg" {
              type   = "host"
              source = "config"
            }"""
    run(agent, tmp_path, "vol-missing", job_hcl("vol-missing", "raw_exec", volumes, "", "true"))

    def failed_eval() -> dict[str, Any] | None:
        evals = agent.get("/v1/job/vol-missing/evaluations")
        return next((e for e in evals if e.get("FailedTGAllocs")), None)

    ev = wait_for(failed_eval, timeout=60, what="the placement failure")
    metric = ev["FailedTGAllocs"]["g"]
    assert metric["ConstraintFiltered"] == {"missing compatible host volumes": 1}
    status = agent.cli("job", "status", "vol-missing", check=True).stdout
    assert "missing compatible host volumes" in status


def test_raw_exec_refuses_volume_mounts_with_a_clear_event(
    volumes_agent: tuple[AgentProcess, Path], tmp_path: Path
) -> None:
    agent, _ = volumes_agent
    volumes = """
            volume "out" {
              type   = "host"
              source = "shared"
            }"""
    mounts = """
              volume_mount {
                volume      = "out"
                destination = "/srv/out"
              }"""
    run(agent, tmp_path, "vol-raw", job_hcl("vol-raw", "raw_exec", volumes, mounts, "true"))
    alloc = finished(agent, "vol-raw")
    assert alloc["ClientStatus"] == "failed"
    events = alloc["TaskStates"]["t"]["Events"]
    failure = next(e for e in events if e["Type"] == "Setup Failure")
    assert "task driver 'raw_exec' does not support volume mounts" in failure["DisplayMessage"]
