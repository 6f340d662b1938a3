"""``nomadic eval list`` and ``eval status -verbose``: placement failures and eval links."""

from __future__ import annotations

import json
from pathlib import Path

from cli_agent import Agent
from http_fakes import web_job

from nomadic.structs import AllocMetric


def _run_failing(agent: Agent, tmp_path: Path) -> None:
    agent.server.fail_placement = {
        "web": AllocMetric(nodes_evaluated=3, class_filtered={"small": 3})
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"Job": web_job()}))
    assert agent.run("job", "run", str(path)).exit_code == 2


def test_eval_list_shows_placement_failures_newest_first(agent: Agent, tmp_path: Path) -> None:
    _run_failing(agent, tmp_path)
    evals = sorted(agent.server.store.snapshot().evals(), key=lambda e: -e.create_index)
    result = agent.run("eval", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "ID        Priority  Triggered By   Job ID  Namespace  Node ID  Status    "
        "Placement Failures",
        f"{evals[0].id[:8]}  50        queued-allocs  web     default    <none>   blocked   false",
        f"{evals[1].id[:8]}  50        job-register   web     default    <none>   complete  true",
    ]
    only_blocked = agent.run("eval", "list", "-status", "blocked", "-job", "web")
    assert len(only_blocked.output.splitlines()) == 2
    assert agent.run("eval", "list", "-job", "nope").output == "No evals found\n"


def test_eval_status_verbose_links_the_blocked_eval(agent: Agent, tmp_path: Path) -> None:
    _run_failing(agent, tmp_path)
    ev = next(e for e in agent.server.store.snapshot().evals() if e.status == "complete")
    lines = agent.run("eval", "status", "-verbose", ev.id).output.splitlines()
    assert lines[0] == f"ID                 = {ev.id}"
    assert "Previous Eval      = <none>" in lines
    assert f"Blocked Eval       = {ev.blocked_eval}" in lines
    assert lines[lines.index("Failed Placements") :] == [
        "Failed Placements",
        'Task Group "web" (failed to place 1 allocation):',
        '  * Class "small": 3 nodes excluded by filter',
        "",
        f'Evaluation "{ev.blocked_eval}" waiting for additional capacity to place remainder',
    ]
