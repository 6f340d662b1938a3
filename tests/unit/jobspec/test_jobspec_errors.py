"""What a user sees for a broken job file: the exact message, position and quoted line."""

from __future__ import annotations

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse, parse_file


def group_body(text: str) -> str:
    return f'job "x" {{\n  group "web" {{\n{text}\n  }}\n}}\n'


def task_body(text: str) -> str:
    return f'job "x" {{\n  group "g" {{\n    task "t" {{\n{text}\n    }}\n  }}\n}}\n'


ERRORS = [
    (
        "unknown-argument",
        group_body("    cout = 3"),
        'web.hcl:3:5: unsupported argument "cout" in group "web"; did you mean "count"?\n'
        "    3 |     cout = 3",
    ),
    (
        "unknown-argument-no-suggestion",
        group_body("    zzzzzz = 3"),
        'web.hcl:3:5: unsupported argument "zzzzzz" in group "web"\n    3 |     zzzzzz = 3',
    ),
    (
        "unknown-block",
        group_body('    tsk "a" {}'),
        'web.hcl:3:5: unsupported block type "tsk" in group "web"; did you mean "task"?\n'
        '    3 |     tsk "a" {}',
    ),
    (
        "argument-written-as-block",
        group_body("    count {}"),
        'web.hcl:3:5: "count" in group "web" is an argument, not a block; write count = ...\n'
        "    3 |     count {}",
    ),
    (
        "block-written-as-argument",
        group_body("    restart = {}"),
        'web.hcl:3:5: "restart" in group "web" is a block, not an argument; write restart { ... }\n'
        "    3 |     restart = {}",
    ),
    (
        "wrong-type-count",
        group_body('    count = "three"'),
        'web.hcl:3:5: invalid value for "count" in group "web": expected a whole number, got '
        'string "three"\n    3 |     count = "three"',
    ),
    (
        "wrong-type-bool",
        task_body('      leader = "yes"'),
        'web.hcl:4:7: invalid value for "leader" in task "t": expected a bool (true or false), '
        'got string "yes"\n    4 |       leader = "yes"',
    ),
    (
        "wrong-type-list",
        'job "x" {\n  datacenters = "dc1"\n}\n',
        'web.hcl:2:3: invalid value for "datacenters" in job "x": expected a list of strings, '
        'got string "dc1"\n    2 |   datacenters = "dc1"',
    ),
    (
        "bad-duration",
        task_body('      kill_timeout = "3x"'),
        'web.hcl:4:7: invalid value for "kill_timeout" in task "t": expected a duration such as '
        '"30s", "1h30m" or "250ms", got string "3x"\n    4 |       kill_timeout = "3x"',
    ),
    (
        "missing-label",
        'job "x" {\n  group {\n  }\n}\n',
        'web.hcl:2:3: "group" block in job "x" needs a name label, e.g. group "name" { ... }; '
        "it has no label\n    2 |   group {",
    ),
    (
        "missing-job",
        "locals {}\n",
        'web.hcl:1:1: no "job" block found; a job file needs exactly one job "<id>" { ... }\n'
        "    1 | locals {}",
    ),
    (
        "duplicate-job",
        'job "a" {}\njob "b" {}\n',
        'web.hcl:2:1: duplicate "job" block; a job file holds exactly one job (the first is on '
        'line 1)\n    2 | job "b" {}',
    ),
    (
        "job-without-label",
        "job {}\n",
        'web.hcl:1:1: "job" block needs exactly one name label, e.g. job "example" { ... }\n'
        "    1 | job {}",
    ),
    (
        "env-block-and-attribute",
        task_body('      env = { A = "1" }\n      env { B = "2" }'),
        'web.hcl:5:7: "env" is set both as a block and as an argument (line 4) in task "t"; use '
        'one of them\n    5 |       env { B = "2" }',
    ),
    (
        "duplicate-group",
        'job "x" {\n  group "a" {}\n  group "a" {}\n}\n',
        'web.hcl:3:3: duplicate group "a" in job "x" (first defined on line 2)\n'
        '    3 |   group "a" {}',
    ),
    (
        "duplicate-restart",
        group_body("    restart {}\n    restart {}"),
        'web.hcl:4:5: duplicate "restart" block in group "web"; only one is allowed (the first '
        "is on line 3)\n    4 |     restart {}",
    ),
    (
        "duplicate-attribute",
        'job "x" {\n  region = "a"\n  region = "b"\n}\n',
        'web.hcl:3:3: attribute "region" redefined; it was already set on line 2\n'
        '    3 |   region = "b"',
    ),
    (
        "syntax-error",
        group_body("    count = "),
        "web.hcl:3:13: invalid HCL syntax: unexpected '}'\n    3 |     count =",
    ),
    (
        "unclosed-brace",
        'job "x" {\n  group "g" {\n',
        "web.hcl:2: invalid HCL syntax: unexpected end of file (is a closing brace missing?)\n"
        '    2 |   group "g" {',
    ),
    (
        "unknown-top-level",
        'jbo "x" {}\n',
        'web.hcl:1:1: unsupported block type "jbo" at the top level; did you mean "job"?\n'
        '    1 | jbo "x" {}',
    ),
    (
        "unsupported-block",
        task_body('      secret "db" {}'),
        'web.hcl:4:7: "secret" blocks are not supported by nomadic yet (in task "t")\n'
        '    4 |       secret "db" {}',
    ),
    (
        "bad-lifecycle-hook",
        task_body('      lifecycle { hook = "prestop" }'),
        'web.hcl:4:19: invalid lifecycle hook "prestop" in task "t"; use "prestart", '
        '"poststart" or "poststop"\n    4 |       lifecycle { hook = "prestop" }',
    ),
    (
        "periodic-without-cron",
        'job "x" {\n  periodic {}\n}\n',
        'web.hcl:2:3: periodic in job "x" needs a schedule: cron = "..." or crons = [...]\n'
        "    2 |   periodic {}",
    ),
    (
        "duplicate-port",
        group_body('    network {\n      port "a" {}\n      port "a" {}\n    }'),
        'web.hcl:5:7: duplicate port "a" in network in group "web" (first defined on line 4)\n'
        '    5 |       port "a" {}',
    ),
    (
        "undeclared-variable",
        'job "x" {\n  region = var.regoin\n}\nvariable "region" {\n  default = "eu"\n}\n',
        'web.hcl:2:15: reference to undeclared input variable "var.regoin"; did you mean '
        '"region"?; declare it with variable "regoin" {}\n    2 |   region = var.regoin',
    ),
    (
        "unset-variable",
        'variable "img" {}\njob "x" {}\n',
        'web.hcl:1:1: Unset variable "img": a used variable must be set or have a default; set '
        "it with -var img=... or NOMAD_VAR_img, or give it a default\n"
        '    1 | variable "img" {}',
    ),
    (
        "local-cycle",
        'locals {\n  a = local.b\n  b = local.a\n}\njob "x" {}\n',
        "web.hcl:3:12: local values refer to each other in a cycle: a -> b -> a\n"
        "    3 |   b = local.a",
    ),
    (
        "unknown-function",
        'job "x" {\n  region = uper("eu")\n}\n',
        'web.hcl:2:12: call to unknown function "uper"; did you mean "upper"?\n'
        '    2 |   region = uper("eu")',
    ),
    (
        "filesystem-function",
        'job "x" {\n  region = file("a")\n}\n',
        'web.hcl:2:12: invalid call to "file": filesystem function disabled: file functions '
        "work only when the job file is read by the CLI, not when it is parsed by the server\n"
        '    2 |   region = file("a")',
    ),
    (
        "template-directive",
        'job "x" {\n  region = "%{ if true }a"\n}\n',
        "web.hcl:2:13: this directive is never closed; add %{ endif }\n"
        '    2 |   region = "%{ if true }a"',
    ),
    (
        "heredoc-interpolation-error",
        'job "x" {\n  region = <<EOT\nhi ${var.q}\nEOT\n}\n',
        'web.hcl:3:4: reference to undeclared input variable "var.q"; declare it with variable '
        '"q" {}\n    3 | hi ${var.q}',
    ),
    (
        "null-in-template",
        'job "x" {\n  region = "a${null}"\n}\n',
        "web.hcl:2:14: cannot use null in a string template; only strings, numbers and bools "
        'can be interpolated\n    2 |   region = "a${null}"',
    ),
    (
        "wrong-operand-type",
        'job "x" {\n  priority = 1 + "a"\n}\n',
        'web.hcl:2:14: "+" needs a number, got string "a"\n    2 |   priority = 1 + "a"',
    ),
    (
        "template-missing-destination",
        'job "x" {\n  group "g" {\n    task "t" {\n      template { data = "x" }\n    }\n  }\n}\n',
        'web.hcl:4:7: template in task "t" is missing the required argument "destination"\n'
        '    4 |       template { data = "x" }',
    ),
    (
        "template-bad-change-mode",
        'job "x" {\n'
        '  group "g" {\n'
        '    task "t" {\n'
        "      template {\n"
        '        data = "x"\n'
        '        destination = "local/x"\n'
        '        change_mode = "reload"\n'
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n",
        'web.hcl:7:9: invalid change_mode "reload" in template in task "t"; use "restart", '
        '"signal", "noop" or "script"\n'
        '    7 |         change_mode = "reload"',
    ),
    (
        "scaling-missing-max",
        'job "x" {\n  group "web" {\n    scaling { min = 1 }\n  }\n}\n',
        'web.hcl:3:5: scaling in group "web" is missing the required argument "max"\n'
        "    3 |     scaling { min = 1 }",
    ),
    (
        "scaling-min-above-max",
        'job "x" {\n  group "web" {\n    scaling {\n      min = 5\n      max = 2\n    }\n  }\n}\n',
        'web.hcl:4:7: scaling in group "web": min 5 is greater than max 2\n    4 |       min = 5',
    ),
    (
        "volume-bad-type",
        'job "x" {\n  group "web" {\n    volume "v" { type = "nfs" }\n  }\n}\n',
        'web.hcl:3:18: invalid volume type "nfs" in volume "v" in group "web"; use "host" or '
        '"csi"\n'
        '    3 |     volume "v" { type = "nfs" }',
    ),
    (
        "duplicate-volume",
        'job "x" {\n'
        '  group "web" {\n'
        '    volume "v" { source = "a" }\n'
        '    volume "v" { source = "b" }\n'
        "  }\n"
        "}\n",
        'web.hcl:4:5: duplicate volume "v" in group "web"\n    4 |     volume "v" { source = "b" }',
    ),
    (
        "volume-mount-without-volume",
        'job "x" {\n'
        '  group "g" {\n'
        '    task "t" {\n'
        '      volume_mount { destination = "/srv" }\n'
        "    }\n"
        "  }\n"
        "}\n",
        'web.hcl:4:7: volume_mount in task "t" needs volume = "<name of a group volume>"\n'
        '    4 |       volume_mount { destination = "/srv" }',
    ),
    (
        "check-bad-type",
        'job "x" {\n  group "web" {\n    service {\n      check { type = "icmp" }\n    }\n  }\n}\n',
        'web.hcl:4:15: invalid check type "icmp" in service in group "web"; use http, tcp, '
        "grpc or script\n"
        '    4 |       check { type = "icmp" }',
    ),
    (
        "disconnect-bad-reconcile",
        'job "x" {\n  group "web" {\n    disconnect { reconcile = "newest" }\n  }\n}\n',
        'web.hcl:3:18: invalid reconcile "newest" in disconnect in group "web"; use one of '
        "best_score, keep_original, keep_replacement, longest_running\n"
        '    3 |     disconnect { reconcile = "newest" }',
    ),
    (
        "heredoc-directive-unclosed",
        'job "x" {\n  region = <<EOT\n%{ if true }a\nEOT\n}\n',
        "web.hcl:2:12: this directive is never closed; add %{ endif }\n    2 |   region = <<EOT",
    ),
    (
        "convert-bad-type",
        'job "x" {\n  region = convert(1, strin)\n}\n',
        "web.hcl:2:23: invalid type in \"convert\": unknown type 'strin'; use string, number, "
        "bool, any, list(...), set(...), map(...), tuple([...]) or object({...})\n"
        "    2 |   region = convert(1, strin)",
    ),
    (
        "convert-impossible",
        'job "x" {\n  meta = convert("a", map(string))\n}\n',
        'web.hcl:2:10: invalid call to "convert": expected a map, got string "a"\n'
        '    2 |   meta = convert("a", map(string))',
    ),
    (
        "vertical-scaling-label",
        'job "x" {\n  group "g" {\n    task "t" {\n      scaling { max = 2 }\n    }\n  }\n}\n',
        'web.hcl:4:7: scaling in task "t" needs a label, "cpu" or "mem": scaling "cpu" { max '
        "= ... }\n"
        "    4 |       scaling { max = 2 }",
    ),
]


ERRORS.append(
    (
        "splat",
        'job "x" {\n  datacenters = [1][*].n\n}\n',
        "web.hcl:2:23: cannot index number 1\n    2 |   datacenters = [1][*].n",
    )
)


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in ERRORS])
def test_error_message(text: str, message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        parse(text, path="web.hcl")
    assert str(info.value) == message


def test_error_carries_position() -> None:
    with pytest.raises(JobSpecError) as info:
        parse(group_body("    cout = 3"), path="web.hcl")
    assert (info.value.path, info.value.line, info.value.column) == ("web.hcl", 3, 5)


def test_undeclared_cli_variable() -> None:
    with pytest.raises(JobSpecError) as info:
        parse('variable "image" { default = "a" }\njob "x" {}\n', "web.hcl", {"imgae": "b"})
    assert str(info.value) == (
        'web.hcl: undeclared variable "imgae" passed with -var; did you mean "image"?; declare '
        'it in the job file with variable "imgae" {}'
    )


def test_missing_file() -> None:
    with pytest.raises(JobSpecError, match=r"^/nonexistent/web.hcl: cannot read job file: "):
        parse_file("/nonexistent/web.hcl")


def test_non_utf8_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.hcl"
    path.write_bytes(b'job "\xff" {}')
    with pytest.raises(JobSpecError, match="not valid UTF-8"):
        parse_file(str(path))
