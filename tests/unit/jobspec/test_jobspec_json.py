"""JSON job files in Nomad's API shape (``nomad job run -json``, ``nomad job inspect``)."""

from __future__ import annotations

import json

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse, parse_file
from nomadic.structs import to_json

API_JOB = {
    "ID": "web",
    "Type": "batch",
    "Datacenters": ["dc1"],
    "TaskGroups": [
        {
            "Name": "g",
            "Count": 2,
            "Tasks": [
                {
                    "Name": "t",
                    "Driver": "raw_exec",
                    "Config": {"command": "sleep", "args": ["1"]},
                    "Resources": {"CPU": 200, "MemoryMB": 64},
                    "KillTimeout": 3_000_000_000,
                }
            ],
        }
    ],
    "Periodic": None,
}


@pytest.mark.parametrize(
    "document", [pytest.param({"Job": API_JOB}, id="wrapped"), pytest.param(API_JOB, id="bare")]
)
def test_api_json_job(document: dict[str, object]) -> None:
    job = parse("\n  " + json.dumps(document), path="web.json")
    assert (job.id, job.name, job.type, job.datacenters) == ("web", "web", "batch", ["dc1"])
    task = job.task_groups[0].tasks[0]
    assert job.task_groups[0].count == 2
    assert (task.config, task.resources.cpu, task.kill_timeout) == (
        {"command": "sleep", "args": ["1"]},
        200,
        3_000_000_000,
    )


def test_hcl_and_json_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    hcl = parse(
        'job "web" {\n  group "g" {\n    count = 3\n    network {\n      port "http" {}\n    }\n'
        '    task "t" {\n      driver = "raw_exec"\n      env { A = "${NOMAD_PORT_http}" }\n'
        "    }\n  }\n}\n"
    )
    path = tmp_path / "web.json"
    path.write_bytes(b'{"Job": ' + to_json(hcl) + b"}")
    assert parse_file(str(path)) == hcl


JSON_ERRORS = [
    (
        "hcl-json-unknown-argument",
        '{"job": {"web": {\n  "group": {"g": {"cout": 2}}}}}',
        'web.json:2:19: unsupported argument "cout" in group "g"; did you mean "count"?\n'
        '    2 |   "group": {"g": {"cout": 2}}}}}',
    ),
    (
        "hcl-json-bad-interpolation",
        '{"job": {"web": {\n  "priority": "${1 +}"}}}',
        "web.json:2:15: in this JSON value: invalid HCL syntax: unexpected '}'\n"
        '    2 |   "priority": "${1 +}"}}}',
    ),
    (
        "hcl-json-label-missing",
        '{"job": {"web": {\n  "group": [{"count": 1}]}}}',
        'web.json:2:3: "group" needs 1 label(s) here: write "group": {"<name>": { ... }} '
        "in HCL-JSON\n"
        '    2 |   "group": [{"count": 1}]}}}',
    ),
    (
        "wrong-type",
        '{"Job": {"ID": "x", "TaskGroups": [{"Count": "a"}]}}',
        "web.json: invalid job JSON: Expected `int`, got `str` at Job.TaskGroups[0].Count",
    ),
    (
        "syntax",
        '{"Job": {"ID": "x",\n}}',
        "web.json:2:1: invalid JSON: Expecting property name enclosed in double quotes\n    2 | }}",
    ),
    (
        "no-id",
        '{"Job": {"Name": "x"}}',
        'web.json: the JSON job has no "ID"; set "ID" to the job\'s name',
    ),
    ("job-not-object", '{"Job": []}', 'web.json: "Job" must be a JSON object'),
]


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in JSON_ERRORS])
def test_json_errors(text: str, message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        parse(text, path="web.json")
    assert str(info.value) == message


def test_byte_order_mark_is_ignored() -> None:
    assert parse('\ufeff{"Job": {"ID": "a"}}').id == "a"
    assert parse('\ufeffjob "b" {}\n').id == "b"
