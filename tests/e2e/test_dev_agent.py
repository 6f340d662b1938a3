"""A real ``nomadic agent -dev`` driven through the CLI and the HTTP API, as a user would."""

from __future__ import annotations

import os
import re
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e


def job_allocs(agent: AgentProcess, job_id: str) -> list[dict[str, Any]]:
    allocs: list[dict[str, Any]] = agent.get(f"/v1/job/{job_id}/allocations")
    return allocs


def write_job(tmp_path: Path, name: str, hcl: str) -> str:
    path = tmp_path / f"{name}.hcl"
    path.write_text(textwrap.dedent(hcl))
    return str(path)


def test_node_status_shows_ready_node_with_raw_exec(dev_agent: AgentProcess) -> None:
    out = dev_agent.cli("node", "status", check=True).stdout
    assert "ready" in out
    node = dev_agent.get("/v1/nodes")[0]
    assert node["Drivers"]["raw_exec"]["Healthy"] is True
    detail = dev_agent.cli("node", "status", node["ID"][:8], check=True).stdout
    assert "raw_exec" in detail


def test_batch_job_output_seen_in_logs(dev_agent: AgentProcess, jobs_dir: Path) -> None:
    run = dev_agent.cli("job", "run", str(jobs_dir / "hello.hcl"), check=True)
    assert 'finished with status "complete"' in run.stdout

    def complete() -> dict[str, Any] | None:
        allocs = job_allocs(dev_agent, "hello")
        return allocs[0] if allocs and allocs[0]["ClientStatus"] == "complete" else None

    alloc = wait_for(complete, timeout=30, what="hello's allocation to complete")
    logs = dev_agent.cli("alloc", "logs", alloc["ID"][:8], check=True).stdout
    assert f"Hello from nomadic: alloc {alloc['ID']}" in logs

    status = dev_agent.cli("job", "status", "hello", check=True).stdout
    assert re.search(r"hello\s+0\s+0\s+0\s+0\s+1\s+0", status), status  # Summary: Complete = 1
    assert alloc["ID"][:8] in status

    alloc_status = dev_agent.cli("alloc", "status", alloc["ID"][:8], check=True).stdout
    for event in ("Received", "Task Setup", "Started", "Terminated"):
        assert event in alloc_status


def test_service_reachable_on_dynamic_port_and_stop_purges(
    dev_agent: AgentProcess, jobs_dir: Path
) -> None:
    dev_agent.cli("job", "run", str(jobs_dir / "web.hcl"), check=True)

    def running() -> dict[str, Any] | None:
        allocs = [a for a in job_allocs(dev_agent, "web") if a["ClientStatus"] == "running"]
        return allocs[0] if allocs else None

    stub = wait_for(running, timeout=30, what="web to be running")
    alloc = dev_agent.get(f"/v1/allocation/{stub['ID']}")
    ports = alloc["AllocatedResources"]["Shared"]["Ports"]
    port = next(p["Value"] for p in ports if p["Label"] == "http")
    assert 20000 <= port <= 32000

    def answers() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return bool(resp.status == 200)

    wait_for(answers, timeout=30, what=f"the web task to answer on port {port}")

    dev_agent.cli("job", "stop", "-purge", "web", check=True)
    status, _ = dev_agent.request("GET", "/v1/job/web")
    assert status == 404

    def refused() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except OSError:
            return True
        return False

    wait_for(refused, timeout=30, what="the web task to stop listening")


def test_stop_kills_the_whole_process_tree(dev_agent: AgentProcess, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    job = write_job(
        tmp_path,
        "tree",
        f"""
        job "tree" {{
          group "tree" {{
            task "parent" {{
              driver = "raw_exec"
              config {{
                command = "/bin/sh"
                args    = ["-c", "sleep 600 & echo $! > {pidfile}; wait"]
              }}
              kill_timeout = "2s"
              resources {{
                cpu    = 20
                memory = 32
              }}
            }}
          }}
        }}
        """,
    )
    dev_agent.cli("job", "run", job, check=True)
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pidfile"))
    assert psutil.pid_exists(pid)

    dev_agent.cli("job", "stop", "tree", check=True)

    def gone() -> bool:
        if not psutil.pid_exists(pid):
            return True
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    wait_for(gone, timeout=30, what=f"grandchild {pid} to be killed")


def test_failing_task_restarted_per_policy_then_failed(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    job = write_job(
        tmp_path,
        "flaky",
        """
        job "flaky" {
          type = "batch"
          group "flaky" {
            restart {
              attempts = 2
              interval = "1m"
              delay    = "1s"
              mode     = "fail"
            }
            reschedule {
              attempts  = 0
              unlimited = false
            }
            task "fail" {
              driver = "raw_exec"
              config {
                command = "/bin/sh"
                args    = ["-c", "echo trying; exit 3"]
              }
              resources {
                cpu    = 20
                memory = 32
              }
            }
          }
        }
        """,
    )
    dev_agent.cli("job", "run", "-detach", job, check=True)

    def failed() -> dict[str, Any] | None:
        allocs = job_allocs(dev_agent, "flaky")
        return allocs[0] if allocs and allocs[0]["ClientStatus"] == "failed" else None

    stub = wait_for(failed, timeout=60, what="flaky to fail after its restarts")
    alloc = dev_agent.get(f"/v1/allocation/{stub['ID']}")
    state = alloc["TaskStates"]["fail"]
    assert state["Restarts"] == 2
    assert state["Failed"] is True
    types = [e["Type"] for e in state["Events"]]
    assert types.count("Restarting") == 2
    assert types[-1] == "Not Restarting"
    terminated = [e for e in state["Events"] if e["Type"] == "Terminated"]
    assert terminated and all(e["ExitCode"] == 3 for e in terminated)
    assert len(job_allocs(dev_agent, "flaky")) == 1  # reschedule attempts = 0: not replaced


def test_unknown_driver_fails_placement_with_explanation(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    job = write_job(
        tmp_path,
        "nodriver",
        """
        job "nodriver" {
          group "g" {
            task "t" {
              driver = "no-such-driver"
              config {
                command = "true"
              }
            }
          }
        }
        """,
    )
    run = dev_agent.cli("job", "run", job)
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'Task Group "g" (failed to place 1 allocation)' in run.stdout
    assert "missing drivers" in run.stdout
    # The agent keeps serving.
    assert dev_agent.get("/v1/status/leader")


def test_job_that_does_not_fit_reports_exhausted_dimension(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    job = write_job(
        tmp_path,
        "huge",
        """
        job "huge" {
          group "g" {
            task "t" {
              driver = "raw_exec"
              config {
                command = "true"
              }
              resources {
                memory = 100000000
              }
            }
          }
        }
        """,
    )
    run = dev_agent.cli("job", "run", job)
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'Dimension "memory" exhausted on 1 nodes' in run.stdout


def test_malformed_hcl_names_file_and_line(dev_agent: AgentProcess, tmp_path: Path) -> None:
    path = tmp_path / "broken.hcl"
    path.write_text('job "broken" {\n  group "g" {\n    cout = 3\n  }\n}\n')
    run = dev_agent.cli("job", "run", str(path))
    assert run.returncode == 1
    assert f"{path}:3" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr


def test_http_errors_are_nomad_shaped(dev_agent: AgentProcess) -> None:
    status, _ = dev_agent.request("GET", "/v1/job/does-not-exist")
    assert status == 404
    status, _ = dev_agent.request("GET", "/v1/allocation/00000000-0000-0000-0000-000000000000")
    assert status == 404
    req = urllib.request.Request(dev_agent.address + "/v1/jobs", data=b"{not json", method="PUT")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("malformed JSON was accepted")
    except urllib.error.HTTPError as err:
        assert err.code == 400
        assert b"Traceback" not in err.read()
    # Still alive and well.
    assert dev_agent.get("/v1/status/leader")


def test_unknown_alloc_id_is_a_clear_cli_error(dev_agent: AgentProcess) -> None:
    run = dev_agent.cli("alloc", "status", "ffffffff")
    assert run.returncode == 1
    assert "No allocation(s) with prefix or id" in run.stderr + run.stdout


def test_server_members_and_status(dev_agent: AgentProcess) -> None:
    members = dev_agent.cli("server", "members", check=True).stdout
    assert "alive" in members
    assert "true" in members.lower()  # Leader column
    assert dev_agent.cli("status", check=True).returncode == 0


def test_env_vars_reach_the_task(dev_agent: AgentProcess, tmp_path: Path) -> None:
    job = write_job(
        tmp_path,
        "envdump",
        """
        job "envdump" {
          type = "batch"
          group "g" {
            network {
              port "http" {}
            }
            task "t" {
              driver = "raw_exec"
              config {
                command = "/usr/bin/env"
              }
              env {
                GREETING = "hi-${NOMAD_JOB_NAME}"
              }
              meta {
                owner = "ops"
              }
              resources {
                cpu    = 20
                memory = 32
              }
            }
          }
        }
        """,
    )
    dev_agent.cli("job", "run", job, check=True)
    stub = wait_for(
        lambda: [a for a in job_allocs(dev_agent, "envdump") if a["ClientStatus"] == "complete"],
        what="envdump to complete",
    )[0]
    out = dev_agent.cli("alloc", "logs", stub["ID"], "t", check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env["NOMAD_ALLOC_ID"] == stub["ID"]
    assert env["NOMAD_JOB_NAME"] == "envdump"
    assert env["NOMAD_GROUP_NAME"] == "g"
    assert env["NOMAD_TASK_NAME"] == "t"
    assert env["GREETING"] == "hi-envdump"
    assert env["NOMAD_META_owner"] == "ops" or env.get("NOMAD_META_OWNER") == "ops"
    port = int(env["NOMAD_PORT_http"])
    assert 20000 <= port <= 32000
    assert env["NOMAD_ADDR_http"] == f"127.0.0.1:{port}"
    assert Path(env["NOMAD_TASK_DIR"]).name == "local"
    assert os.path.isdir(env["NOMAD_ALLOC_DIR"]) or env["NOMAD_ALLOC_DIR"]
