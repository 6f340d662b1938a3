"""``nomadic job plan``: the diff, the scheduler dry run, the check-index hint, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_agent import Agent
from http_fakes import web_job

from nomadic.testing.factories import mock_node


def _help(index: int, path: Path) -> list[str]:
    return [
        f"Job Modify Index: {index}",
        "To submit the job with version verification run:",
        "",
        f"nomadic job run -check-index {index} {path}",
        "",
        "When running the job with the check-index flag, the job will only be run if the",
        "job modify index given matches the server-side version. If the index has",
        "changed, another user has modified the job and the plan's results are",
        "potentially invalid.",
    ]


def _write(tmp_path: Path, count: int = 1, name: str = "web.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Job": web_job(count=count)}))
    return path


@pytest.fixture
def ready(agent: Agent) -> Agent:
    node = mock_node(datacenter="dc1")
    agent.server.write(lambda i: agent.server.store.upsert_node(i, node))
    return agent


def test_plan_of_a_new_job_shows_creates_and_changes_nothing(ready: Agent, tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = ready.run("job", "plan", str(path))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        '+ Job: "web"',
        '+ Task Group: "web" (1 create)',
        '  + Task: "server" (forces create)',
        "",
        "Scheduler dry-run:",
        "- All tasks successfully allocated.",
        "",
        *_help(0, path),
    ]
    snap = ready.server.store.snapshot()
    assert snap.jobs() == [] and snap.evals() == [] and snap.allocs() == []


def test_plan_of_an_unchanged_job_exits_0(ready: Agent, tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert ready.run("job", "run", str(path)).exit_code == 0
    index = ready.server.store.snapshot().jobs()[0].job_modify_index
    # the fake server placed the alloc without resources: a real scheduler sees it as running
    result = ready.run("job", "plan", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ['Job: "web"', 'Task Group: "web" (1 ignore)', '  Task: "server"']
    assert lines[-9:] == _help(index, path)


def test_plan_of_a_count_change_annotates_the_count(ready: Agent, tmp_path: Path) -> None:
    assert ready.run("job", "run", str(_write(tmp_path))).exit_code == 0
    path = _write(tmp_path, count=3, name="web3.json")
    result = ready.run("plan", str(path), "-verbose")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[:4] == [
        '+/- Job: "web"',
        '+/- Task Group: "web" (2 create, 1 in-place update)',
        '  +/- Count: "1" => "3" (forces create)',
        '      Task: "server"',
    ]


def test_plan_diff_false_hides_the_diff(ready: Agent, tmp_path: Path) -> None:
    result = ready.run("job", "plan", "-diff=false", str(_write(tmp_path)))
    assert result.output.splitlines()[:2] == [
        "Scheduler dry-run:",
        "- All tasks successfully allocated.",
    ]


def test_plan_reports_what_would_fail_to_place(agent: Agent, tmp_path: Path) -> None:
    node = mock_node(datacenter="dc1")
    node.node_resources.memory.memory_mb = 32
    agent.server.write(lambda i: agent.server.store.upsert_node(i, node))
    result = agent.run("job", "plan", str(_write(tmp_path, count=2)))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    start = lines.index("Scheduler dry-run:")
    assert lines[start : start + 5] == [
        "Scheduler dry-run:",
        "- WARNING: Failed to place all allocations.",
        '  Task Group "web" (failed to place 2 allocations):',
        "    * Resources exhausted on 1 nodes",
        '    * Dimension "memory" exhausted on 1 nodes',
    ]


def test_plan_errors_exit_255(agent: Agent, tmp_path: Path) -> None:
    missing = agent.run("job", "plan", str(tmp_path / "nope.hcl"))
    assert missing.exit_code == 255
    bad = tmp_path / "bad.json"
    job = web_job()
    job["TaskGroups"][0]["Count"] = -1
    bad.write_text(json.dumps({"Job": job}))
    invalid = agent.run("job", "plan", str(bad))
    assert invalid.exit_code == 255
    assert "Error during plan" in invalid.output
