"""``nomadic job init`` and ``nomadic fmt``: files written, exit codes as Nomad's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nomadic.cli.main import cli
from nomadic.jobspec import parse_file


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.mark.parametrize("args", [["job", "init"], ["job", "init", "--short"], ["init"]])
def test_job_init_writes_a_runnable_raw_exec_spec(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output == "Example job file written to example.nomad.hcl\n"
    job = parse_file("example.nomad.hcl")
    assert job.id == "example" and job.task_groups[0].tasks[0].driver == "raw_exec"
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "Job 'example.nomad.hcl' already exists" in again.output


def test_fmt_lists_rewrites_and_checks(runner: CliRunner, tmp_path: Path) -> None:
    messy = tmp_path / "a.hcl"
    messy.write_text('job "x" {\ngroup "g" {\ncount=1\n}\n}\n')
    check = runner.invoke(cli, ["fmt", "--check", "."])
    assert (check.exit_code, check.output) == (3, "a.hcl\n")
    assert messy.read_text().startswith('job "x" {\ngroup')
    write = runner.invoke(cli, ["fmt"])
    assert (write.exit_code, write.output) == (0, "a.hcl\n")
    assert messy.read_text() == 'job "x" {\n  group "g" {\n    count = 1\n  }\n}\n'
    assert runner.invoke(cli, ["fmt", "--check", "a.hcl"]).exit_code == 0
    (tmp_path / "b.hcl").write_text("job {\n")
    bad = runner.invoke(cli, ["fmt", "b.hcl"])
    assert bad.exit_code == 1 and "b.hcl:" in bad.output


def test_job_run_output_prints_api_json_and_submits_nothing(runner: CliRunner) -> None:
    runner.invoke(cli, ["job", "init", "--short"])
    result = runner.invoke(
        cli, ["job", "run", "--output", "--address", "http://127.0.0.1:1", "example.nomad.hcl"]
    )
    assert result.exit_code == 0, result.output
    assert '"ID": "example"' in result.output and '"Driver": "raw_exec"' in result.output


def test_job_run_output_reads_hcl_json_with_var_and_var_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "web.nomad.json").write_text(
        json.dumps(
            {
                "variable": {"n": {"type": "number"}, "dc": {"default": "dc1"}},
                "job": {
                    "web": {
                        "datacenters": ["${var.dc}"],
                        "group": {
                            "g": {"count": "${var.n}", "task": {"t": {"driver": "raw_exec"}}}
                        },
                    }
                },
            }
        )
    )
    (tmp_path / "vars.hcl").write_text('n = 3\ndc = "from-file"\n')
    result = runner.invoke(
        cli,
        ["job", "run", "-output", "-var-file", "vars.hcl", "-var", "dc=from-flag",
         "-address", "http://127.0.0.1:1", "web.nomad.json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = json.loads(result.output)["Job"]
    assert (job["Datacenters"], job["TaskGroups"][0]["Count"]) == (["from-flag"], 3)


def test_job_validate_locally_reports_jobspec_errors_with_position(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "bad.hcl").write_text('job "x" {\n  group "g" {\n    cout = 1\n  }\n}\n')
    result = runner.invoke(cli, ["job", "validate", "-address", "http://127.0.0.1:1", "bad.hcl"])
    assert result.exit_code == 1
    assert 'bad.hcl:3:5: unsupported argument "cout" in group "g"; did you mean "count"?' in (
        result.output
    )
    assert "    3 |     cout = 1" in result.output
