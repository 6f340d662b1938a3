"""``nomadic job run/status/stop/inspect/validate`` against a real HTTP app over fakes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_agent import Agent, scrub
from http_fakes import web_job

from nomadic.structs import AllocMetric


@pytest.fixture
def job_file(tmp_path: Path) -> Path:
    path = tmp_path / "web.json"
    path.write_text(json.dumps({"Job": web_job()}))
    return path


def test_job_run_monitors_the_evaluation(agent: Agent, job_file: Path) -> None:
    node = agent.server.add_node()
    result = agent.run("job", "run", str(job_file))
    snap = agent.server.store.snapshot()
    ev = snap.evals()[0]
    alloc = snap.allocs()[0]
    assert result.exit_code == 0, result.output
    assert scrub(result.output).splitlines() == [
        f'==> <time>: Monitoring evaluation "{ev.id[:8]}"',
        '    <time>: Evaluation triggered by job "web"',
        f'    <time>: Allocation "{alloc.id[:8]}" created: node "{node.id[:8]}", group "web"',
        '    <time>: Evaluation status changed: "pending" -> "complete"',
        f'==> <time>: Evaluation "{ev.id[:8]}" finished with status "complete"',
    ]


def test_job_run_placement_failure_exits_2_with_reasons(agent: Agent, job_file: Path) -> None:
    agent.server.add_node()
    agent.server.fail_placement = {
        "web": AllocMetric(
            nodes_evaluated=1,
            constraint_filtered={"missing drivers": 1},
            nodes_exhausted=1,
            dimension_exhausted={"memory": 1},
        )
    }
    result = agent.run("job", "run", str(job_file))
    ev = agent.server.store.snapshot().evals()[0]
    ev_id = ev.id[:8]
    assert result.exit_code == 2
    assert scrub(result.output).splitlines() == [
        f'==> <time>: Monitoring evaluation "{ev_id}"',
        '    <time>: Evaluation triggered by job "web"',
        '    <time>: Evaluation status changed: "pending" -> "complete"',
        f'==> <time>: Evaluation "{ev_id}" finished with status "complete" but failed to place '
        "all allocations:",
        '    <time>: Task Group "web" (failed to place 1 allocation):',
        '      * Constraint "missing drivers": 1 nodes excluded by filter',
        "      * Resources exhausted on 1 nodes",
        '      * Dimension "memory" exhausted on 1 nodes',
        f'    <time>: Evaluation "{ev.blocked_eval[:8]}" waiting for additional capacity to place '
        "remainder",
    ]


def test_job_run_detach_prints_the_eval_id(agent: Agent, job_file: Path) -> None:
    result = agent.run("job", "run", "-detach", str(job_file))
    ev = agent.server.store.snapshot().evals()[0]
    assert result.exit_code == 0
    assert result.output == f"Job registration successful\nEvaluation ID: {ev.id}\n"


def test_job_run_parse_error_prints_the_parser_message_and_exits_1(
    agent: Agent, tmp_path: Path
) -> None:
    from nomadic import jobspec
    from nomadic.errors import JobSpecError

    bad = tmp_path / "bad.hcl"
    bad.write_text('job "web" {\n  group "g" {\n    count = \n  }\n}\n')
    with pytest.raises(JobSpecError) as parsed:
        jobspec.parse_file(str(bad))
    result = agent.run("job", "run", str(bad))
    assert result.exit_code == 1
    assert result.output == f"Error parsing job file from {bad}:\n{parsed.value}\n"
    assert agent.server.store.snapshot().jobs() == []


def test_job_run_missing_file_exits_1(agent: Agent, tmp_path: Path) -> None:
    result = agent.run("job", "run", str(tmp_path / "nope.hcl"))
    assert result.exit_code == 1
    assert "nope.hcl" in result.output
    assert "no such file" in result.output


def test_job_run_invalid_job_reports_the_servers_message(agent: Agent, tmp_path: Path) -> None:
    job = web_job()
    job["TaskGroups"][0]["Tasks"][0]["Resources"]["MemoryMB"] = 1
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"Job": job}))
    result = agent.run("job", "run", str(path))
    assert result.exit_code == 1
    assert result.output == (
        "Error submitting job: Unexpected response code: 400 "
        "(task 'server' in group 'web': resources memory must be at least 10 MB)\n"
    )


def test_job_run_unreachable_agent_exits_1(job_file: Path) -> None:
    from click.testing import CliRunner

    from nomadic.cli.main import cli

    result = CliRunner().invoke(cli, ["job", "run", "-address=http://127.0.0.1:1", str(job_file)])
    assert result.exit_code == 1
    assert result.output.startswith("Error submitting job: PUT http://127.0.0.1:1/v1/jobs:")
    assert "Set NOMAD_ADDR or -address" in result.output


def test_job_status_lists_jobs(agent: Agent, job_file: Path) -> None:
    assert agent.run("job", "status").output == "No running jobs\n"
    agent.server.add_node()
    agent.run("job", "run", "-detach", str(job_file))
    result = agent.run("job", "status")
    assert result.exit_code == 0
    assert scrub(result.output).splitlines() == [
        "ID   Type     Priority  Status   Submit Date",
        "web  service  50        running  <time>",
    ]


def test_job_status_shows_nomads_layout(agent: Agent, job_file: Path) -> None:
    node = agent.server.add_node()
    agent.run("job", "run", "-detach", str(job_file))
    alloc = agent.server.store.snapshot().allocs()[0]
    result = agent.run("job", "status", "we")
    assert result.exit_code == 0, result.output
    lines = scrub(result.output).splitlines()
    assert lines[:18] == [
        "ID            = web",
        "Name          = web",
        "Submit Date   = <time>",
        "Type          = service",
        "Priority      = 50",
        "Datacenters   = dc1",
        "Namespace     = default",
        "Node Pool     = default",
        "Status        = running",
        "Periodic      = false",
        "Parameterized = false",
        "",
        "Summary",
        "Task Group  Queued  Starting  Running  Failed  Complete  Lost  Unknown",
        "web         0       0         1        0       0         0     0",
        "",
        "Allocations",
        "ID        Node ID   Task Group  Version  Desired  Status   Created  Modified",
    ]
    assert re.fullmatch(
        rf"{alloc.id[:8]}  {node.id[:8]}  web         0        run      running  "
        r"(\ds ago)   \1",
        lines[18],
    ), lines[18]
    assert len(lines) == 19


def test_job_status_unknown_job_exits_1(agent: Agent) -> None:
    result = agent.run("job", "status", "nope")
    assert result.exit_code == 1
    assert result.output == 'No job(s) with prefix or id "nope" found\n'


def test_job_stop_monitors_and_purge_removes(agent: Agent, job_file: Path) -> None:
    agent.server.add_node()
    agent.run("job", "run", "-detach", str(job_file))
    result = agent.run("job", "stop", "web")
    assert result.exit_code == 0
    assert 'Evaluation triggered by job "web"' in result.output
    assert agent.server.store.snapshot().job_by_id("default", "web").stop  # type: ignore[union-attr]
    result = agent.run("job", "stop", "-purge", "-detach", "web")
    assert result.exit_code == 0
    assert len(result.output.strip()) == 36
    assert agent.server.store.snapshot().job_by_id("default", "web") is None


def test_job_inspect_prints_the_job_json(agent: Agent, job_file: Path) -> None:
    agent.run("job", "run", "-detach", str(job_file))
    result = agent.run("job", "inspect", "web")
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["Job"]["ID"] == "web"
    assert body["Job"]["TaskGroups"][0]["Tasks"][0]["Resources"]["MemoryMB"] == 64
    assert result.output.startswith('{\n    "Job": {\n')


def test_job_validate(agent: Agent, job_file: Path, tmp_path: Path) -> None:
    result = agent.run("job", "validate", str(job_file))
    assert (result.exit_code, result.output) == (0, "Job validation successful\n")
    job = web_job()
    job["TaskGroups"][0]["Count"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Job": job}))
    result = agent.run("job", "validate", str(bad))
    assert result.exit_code == 1
    assert result.output == (
        "Job validation errors:\n1 error occurred:\n"
        "\t* group 'web': count -1 must not be negative\n"
    )


def test_hcl_job_with_vars_runs(agent: Agent, tmp_path: Path) -> None:
    agent.server.add_node()
    spec = tmp_path / "web.hcl"
    spec.write_text(
        'variable "count" {\n  type = number\n  default = 1\n}\n'
        'job "web" {\n  datacenters = ["dc1"]\n  group "web" {\n    count = var.count\n'
        '    task "server" {\n      driver = "raw_exec"\n'
        '      config {\n        command = "/bin/sleep"\n      }\n    }\n  }\n}\n'
    )
    varfile = tmp_path / "vars.hcl"
    varfile.write_text("count = 3\n")
    result = agent.run("job", "run", "-var-file", str(varfile), str(spec))
    assert result.exit_code == 0, result.output
    assert len(agent.server.store.snapshot().allocs()) == 3
    result = agent.run("job", "run", "-var", "count=2", "-detach", str(spec))
    assert result.exit_code == 0, result.output
    job = agent.server.store.snapshot().job_by_id("default", "web")
    assert job is not None and job.task_groups[0].count == 2


def test_job_run_output_prints_the_job_without_submitting(agent: Agent, job_file: Path) -> None:
    result = agent.run("job", "run", "-output", str(job_file))
    assert result.exit_code == 0
    assert json.loads(result.output)["Job"]["ID"] == "web"
    assert agent.server.store.snapshot().jobs() == []


def test_job_run_verbose_shows_full_ids(agent: Agent, job_file: Path) -> None:
    agent.server.add_node()
    result = agent.run("job", "run", "-verbose", str(job_file))
    ev = agent.server.store.snapshot().evals()[0]
    assert f'Monitoring evaluation "{ev.id}"' in result.output
