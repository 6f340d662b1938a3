"""Batch, periodic and parameterized jobs and task lifecycle on a real ``nomadic agent -dev``."""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import re
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e


def write_job(tmp_path: Path, name: str, hcl: str) -> str:
    path = tmp_path / f"{name}.hcl"
    path.write_text(textwrap.dedent(hcl))
    return str(path)


def children(agent: AgentProcess, parent: str) -> list[dict[str, Any]]:
    stubs: list[dict[str, Any]] = agent.get(f"/v1/jobs?prefix={quote(parent + '/')}")
    return sorted((s for s in stubs if s["ParentID"] == parent), key=lambda s: s["ID"])


def launch_second(child_id: str) -> int:
    return int(child_id.rsplit("-", 1)[1])


def test_periodic_seconds_schedule_launches_on_time_and_force(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    path = write_job(
        tmp_path,
        "tick",
        """
        job "tick" {
          type = "batch"
          periodic {
            crons            = ["*/2 * * * * *"]
            prohibit_overlap = false
          }
          group "g" {
            task "t" {
              driver = "raw_exec"
              config { command = "/bin/true" }
            }
          }
        }
        """,
    )
    run = dev_agent.cli("job", "run", path, check=True)
    assert "Job registration successful" in run.stdout
    assert dev_agent.get("/v1/job/tick/allocations") == []  # the parent is never scheduled
    launched = wait_for(
        lambda: (c := children(dev_agent, "tick")) and len(c) >= 3 and c,
        timeout=30,
        what="three periodic launches",
    )
    seconds = [launch_second(c["ID"]) for c in launched]
    assert all(s % 2 == 0 for s in seconds), seconds  # on the schedule's even seconds
    assert all(b - a >= 2 for a, b in itertools.pairwise(seconds)), seconds
    child = dev_agent.get(f"/v1/job/{quote(launched[0]['ID'], safe='')}")
    assert child["ParentID"] == "tick" and child["Periodic"] is None

    def complete() -> bool:
        c = children(dev_agent, "tick")
        return any(x["Status"] == "dead" for x in c)

    wait_for(complete, timeout=30, what="a periodic child to complete")
    status = dev_agent.cli("job", "status", "tick", check=True).stdout
    assert "Next Periodic Launch" in status
    assert "Previously Launched Jobs" in status and "tick/periodic-" in status

    dev_agent.cli("job", "stop", "-purge", "tick", check=True)


def test_periodic_prohibit_overlap_and_force(dev_agent: AgentProcess, tmp_path: Path) -> None:
    path = write_job(
        tmp_path,
        "slow",
        """
        job "slow" {
          type = "batch"
          periodic {
            cron             = "0 0 1 1 *"
            prohibit_overlap = true
          }
          group "g" {
            task "t" {
              driver = "raw_exec"
              config {
                command = "/bin/sleep"
                args    = ["600"]
              }
            }
          }
        }
        """,
    )
    dev_agent.cli("job", "run", path, check=True)
    assert children(dev_agent, "slow") == []  # next launch is next new year
    force = dev_agent.cli("job", "periodic", "force", "-detach", "slow", check=True)
    assert "Force periodic successful" in force.stdout
    first = wait_for(lambda: children(dev_agent, "slow"), timeout=10, what="a forced launch")
    assert len(first) == 1

    # A seconds schedule with prohibit_overlap: no launch while the forced child still runs.
    fast = Path(path).read_text().replace('"0 0 1 1 *"', '"* * * * * *"')
    Path(path).write_text(fast)
    dev_agent.cli("job", "run", path, check=True)
    wait_for(
        lambda: any(
            a["ClientStatus"] == "running"
            for a in dev_agent.get(f"/v1/job/{quote(first[0]['ID'], safe='')}/allocations")
        ),
        timeout=30,
        what="the forced child to run",
    )
    log_lines = wait_for(
        lambda: [
            line
            for line in dev_agent.log_path.read_text().splitlines()
            if "slow: skipping launch" in line
        ],
        timeout=15,
        what="the dispatcher to skip an overlapping launch",
    )
    assert log_lines
    assert len(children(dev_agent, "slow")) == 1
    dev_agent.cli("job", "stop", "-purge", "slow", check=True)
    dev_agent.cli("job", "stop", "-purge", first[0]["ID"], check=True)


def test_dispatch_with_meta_and_payload_seen_by_task(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    path = write_job(
        tmp_path,
        "render",
        """
        job "render" {
          type = "batch"
          parameterized {
            payload       = "required"
            meta_required = ["x"]
            meta_optional = ["y"]
          }
          group "g" {
            task "t" {
              driver = "raw_exec"
              config {
                command = "/bin/sh"
                args    = ["-c", "cat ${NOMAD_TASK_DIR}/input.txt; echo; echo meta=$NOMAD_META_x"]
              }
              dispatch_payload { file = "input.txt" }
            }
          }
        }
        """,
    )
    dev_agent.cli("job", "run", path, check=True)
    assert dev_agent.get("/v1/job/render/allocations") == []
    payload = tmp_path / "payload.txt"
    payload.write_text("hello payload")

    missing = dev_agent.cli("job", "dispatch", "render", str(payload))
    assert missing.returncode == 1 and "missing required meta keys x" in missing.stderr
    extra = dev_agent.cli("job", "dispatch", "-meta", "x=1", "-meta", "z=2", "render", str(payload))
    assert extra.returncode == 1 and "unpermitted meta keys z" in extra.stderr
    no_payload = dev_agent.cli("job", "dispatch", "-meta", "x=1", "render")
    assert no_payload.returncode == 1 and "payload is required" in no_payload.stderr

    out = dev_agent.cli("job", "dispatch", "-meta", "x=42", "render", str(payload), check=True)
    m = re.search(r"Dispatched Job ID\s*=\s*(render/dispatch-\d+-[0-9a-f]{8})", out.stdout)
    assert m, out.stdout
    child_id = m.group(1)
    assert 'finished with status "complete"' in out.stdout

    def done() -> dict[str, Any] | None:
        allocs = dev_agent.get(f"/v1/job/{quote(child_id, safe='')}/allocations")
        return allocs[0] if allocs and allocs[0]["ClientStatus"] == "complete" else None

    alloc = wait_for(done, timeout=30, what="the dispatched child to complete")
    logs = dev_agent.cli("alloc", "logs", alloc["ID"][:8], check=True).stdout
    assert "hello payload" in logs and "meta=42" in logs
    assert dev_agent.get("/v1/job/render/allocations") == []  # still none on the parent

    # the HTTP API, with an idempotency token: the second call returns the same child
    body = {"Payload": base64.b64encode(b"p").decode(), "Meta": {"x": "1"}}
    body["IdempotencyToken"] = "tok-1"
    st, raw = dev_agent.request("POST", "/v1/job/render/dispatch", body)
    assert st == 200, raw
    first = json.loads(raw)
    st, raw = dev_agent.request("POST", "/v1/job/render/dispatch", body)
    assert st == 200 and json.loads(raw)["DispatchedJobID"] == first["DispatchedJobID"]
    big = {"Payload": base64.b64encode(b"x" * 17000).decode(), "Meta": {"x": "1"}}
    st, raw = dev_agent.request("POST", "/v1/job/render/dispatch", big)
    assert st == 400 and b"payload exceeds maximum size" in raw

    status = dev_agent.cli("job", "status", "render", check=True).stdout
    assert "Parameterized Job Summary" in status and child_id in status


def _ts(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_lifecycle_order_seen_in_task_states(dev_agent: AgentProcess, tmp_path: Path) -> None:
    def task(name: str, hook: str, script: str, sidecar: bool = False) -> str:
        lifecycle = (
            f'lifecycle {{\n hook = "{hook}"\n sidecar = {str(sidecar).lower()}\n }}'
            if hook
            else ""
        )
        return f"""
            task "{name}" {{
              driver = "raw_exec"
              {lifecycle}
              config {{
                command = "/bin/sh"
                args    = ["-c", "{script}"]
              }}
            }}"""

    tasks = "".join(
        [
            task("init", "prestart", "sleep 1; echo init"),
            task("proxy", "prestart", "sleep 600", sidecar=True),
            task("main", "", "sleep 2; echo main"),
            task("after", "poststart", "echo after"),
            task("cleanup", "poststop", "echo cleanup"),
        ]
    )
    path = write_job(
        tmp_path,
        "ordered",
        f'job "ordered" {{\n type = "batch"\n group "g" {{\n{tasks}\n }}\n}}\n',
    )
    dev_agent.cli("job", "run", "-detach", path, check=True)

    def complete() -> dict[str, Any] | None:
        allocs = dev_agent.get("/v1/job/ordered/allocations")
        if allocs and allocs[0]["ClientStatus"] in ("complete", "failed"):
            return dev_agent.get(f"/v1/allocation/{allocs[0]['ID']}")
        return None

    alloc = wait_for(complete, timeout=60, what="the ordered alloc to finish")
    assert alloc["ClientStatus"] == "complete", alloc["TaskStates"]
    st = alloc["TaskStates"]
    started = {name: _ts(s["StartedAt"]) for name, s in st.items()}
    finished = {name: _ts(s["FinishedAt"]) for name, s in st.items()}
    assert finished["init"] <= started["main"]
    assert started["proxy"] <= started["main"]
    assert started["main"] <= started["after"]
    assert finished["main"] <= finished["proxy"]  # the sidecar is killed after main is done
    assert finished["proxy"] <= started["cleanup"]
    assert not st["proxy"]["Failed"]


def test_scale_history_revert_restart_and_alloc_stop(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    path = write_job(
        tmp_path,
        "svc",
        """
        job "svc" {
          group "g" {
            count = 1
            task "t" {
              driver = "raw_exec"
              config {
                command = "/bin/sleep"
                args    = ["600"]
              }
              resources {
                cpu    = 20
                memory = 16
              }
            }
          }
        }
        """,
    )
    dev_agent.cli("job", "run", "-detach", path, check=True)

    def running(n: int) -> list[dict[str, Any]] | None:
        allocs = [
            a
            for a in dev_agent.get("/v1/job/svc/allocations")
            if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
        ]
        return allocs if len(allocs) == n else None

    wait_for(lambda: running(1), timeout=30, what="1 running svc alloc")
    dev_agent.cli("job", "scale", "-detach", "svc", "3", check=True)
    wait_for(lambda: running(3), timeout=30, what="3 running svc allocs")
    scale = dev_agent.get("/v1/job/svc/scale")
    assert scale["TaskGroups"]["g"]["Desired"] == 3 and scale["TaskGroups"]["g"]["Running"] == 3

    history = dev_agent.cli("job", "history", "-p", "svc", check=True).stdout
    assert re.search(r"Version\s+=\s+1", history) and re.search(r"Version\s+=\s+0", history)
    assert '+/- TaskGroups[g].Count: "1" => "3"' in history

    dev_agent.cli("job", "revert", "-detach", "svc", "0", check=True)
    allocs = wait_for(lambda: running(1), timeout=30, what="the revert back to 1 alloc")
    job = dev_agent.get("/v1/job/svc")
    assert job["Version"] == 2 and job["TaskGroups"][0]["Count"] == 1
    bad = dev_agent.cli("job", "revert", "svc", "9")
    assert bad.returncode == 1 and "has no version 9" in bad.stderr

    out = dev_agent.cli("job", "restart", "-yes", "svc", check=True).stdout
    assert "All allocations restarted successfully!" in out
    alloc = dev_agent.get(f"/v1/allocation/{allocs[0]['ID']}")
    assert alloc["TaskStates"]["t"]["Restarts"] == 1

    dev_agent.cli("alloc", "stop", "-detach", allocs[0]["ID"][:8], check=True)

    def replaced() -> list[dict[str, Any]] | None:
        now = running(1)
        return now if now and now[0]["ID"] != allocs[0]["ID"] else None

    wait_for(replaced, timeout=30, what="the stopped alloc to be replaced")
    dev_agent.cli("job", "stop", "-purge", "svc", check=True)
