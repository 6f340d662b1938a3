"""Expressions, variables and runtime interpolation as a job file author sees them."""

from __future__ import annotations

from typing import Any

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse, parse_var_file


def meta_value(expr: str, prelude: str = "", variables: dict[str, str] | None = None) -> Any:
    """Evaluate ``expr`` as a job-level meta value (which converts it to a string)."""
    text = f'{prelude}\njob "x" {{\n  meta = {{ v = {expr} }}\n}}\n'
    return parse(text, variables=variables).meta["v"]


def config_value(expr: str, prelude: str = "", variables: dict[str, str] | None = None) -> Any:
    """Evaluate ``expr`` as driver config, which keeps any type."""
    text = (
        f'{prelude}\njob "x" {{\n  group "g" {{\n    task "t" {{\n      config {{\n'
        f"        v = {expr}\n      }}\n    }}\n  }}\n}}\n"
    )
    return parse(text, variables=variables).task_groups[0].tasks[0].config["v"]


RUNTIME = [
    ("node-attr", '"${node.unique.name}"', "${node.unique.name}"),
    ("attr", '"${attr.kernel.name}"', "${attr.kernel.name}"),
    ("meta", '"${meta.rack}"', "${meta.rack}"),
    ("nomad-env", '"${NOMAD_ALLOC_INDEX}"', "${NOMAD_ALLOC_INDEX}"),
    ("env-index", '"${env["HOME"]}"', '${env["HOME"]}'),
    (
        "mixed",
        '"web-${NOMAD_ALLOC_INDEX}.${node.datacenter}"',
        "web-${NOMAD_ALLOC_INDEX}.${node.datacenter}",
    ),
    ("escaped", '"$${literal}"', "${literal}"),
    ("heredoc", "<<EOT\nport ${NOMAD_PORT_http}\nEOT", "port ${NOMAD_PORT_http}\n"),
    ("heredoc-escaped", "<<EOT\n$${x} \\n\nEOT", "${x} \\n\n"),
    ("heredoc-trim", "<<-EOT\n    a\n      b\n    EOT", "a\n  b\n"),
    (
        "heredoc-consul-template",
        '<<EOT\n{{ range service "db" }}{{ .Address }}{{ end }}\nEOT',
        '{{ range service "db" }}{{ .Address }}{{ end }}\n',
    ),
]


@pytest.mark.parametrize(("expr", "expected"), [pytest.param(e, v, id=i) for i, e, v in RUNTIME])
def test_runtime_interpolation_is_preserved(expr: str, expected: str) -> None:
    assert config_value(expr) == expected


EXPRESSIONS = [
    ("arithmetic", "1 + 2 * 3", 7),
    ("division", "7 / 2", 3.5),
    ("modulo", "7 % 3", 1),
    ("negative", "-4 + 1", -3),
    ("comparison", "3 >= 2 && !(1 == 2)", True),
    ("conditional", '2 > 1 ? "yes" : "no"', "yes"),
    ("string-escapes", '"a\\tb\\n\\"q\\""', 'a\tb\n"q"'),
    ("tuple", '[1, "a", true, null]', [1, "a", True, None]),
    ("object", '{ a = 1, "b.c" = [2] }', {"a": 1, "b.c": [2]}),
    ("index", '["a", "b"][1]', "b"),
    ("for-tuple", "[for x in [1, 2, 3] : x * 2 if x != 2]", [2, 6]),
    ("for-object", "{ for k, v in { a = 1, b = 2 } : upper(k) => v }", {"A": 1, "B": 2}),
    ("functions", 'join(",", concat(["a"], split("-", "b-c")))', "a,b,c"),
    ("format", 'format("%s-%d", "web", 3)', "web-3"),
    ("lookup-merge", 'lookup(merge({ a = 1 }, { b = 2 }), "b", 0)', 2),
    ("jsonencode", "jsonencode({ a = [1, true] })", '{"a":[1,true]}'),
    ("base64", 'base64decode(base64encode("hi"))', "hi"),
    ("expand-args", "max([3, 9, 2]...)", 9),
    ("template-number", '"n=${1 + 1}"', "n=2"),
    ("try", 'try(var.missing, "fallback")', "fallback"),
    ("can", "[can(var.missing), can(1)]", [False, True]),
]


@pytest.mark.parametrize(
    ("expr", "expected"), [pytest.param(e, v, id=i) for i, e, v in EXPRESSIONS]
)
def test_expression(expr: str, expected: Any) -> None:
    assert config_value(expr) == expected


VARIABLES = """
variable "image" {
  type    = string
  default = "redis:7"
}
variable "count" {
  type    = number
  default = 2
}
variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}
variable "debug" {
  type    = bool
  default = false
}
locals {
  tag   = "${var.image}-${local.suffix}"
  suffix = var.debug ? "debug" : "prod"
}
"""


def test_variable_defaults_and_locals() -> None:
    assert config_value("local.tag", VARIABLES) == "redis:7-prod"
    assert config_value("var.count + 1", VARIABLES) == 3
    assert config_value("var.dcs", VARIABLES) == ["dc1"]


def test_cli_variables_override_defaults_with_type_conversion() -> None:
    cli = {"image": "nginx", "count": "5", "dcs": '["a", "b"]', "debug": "true"}
    assert config_value("local.tag", VARIABLES, cli) == "nginx-debug"
    assert config_value("var.count * 2", VARIABLES, cli) == 10
    assert config_value("var.dcs", VARIABLES, cli) == ["a", "b"]


def test_environment_variables_sit_between_default_and_cli() -> None:
    text = (
        'variable "a" { default = "d" }\nvariable "b" { default = "d" }\n'
        'job "x" {\n  meta = { a = var.a, b = var.b }\n}\n'
    )
    envs = {"NOMAD_VAR_a": "env", "NOMAD_VAR_b": "env"}
    assert parse(text, variables={"b": "cli"}, envs=envs).meta == {"a": "env", "b": "cli"}


def test_variables_block_and_group_fields() -> None:
    text = (
        'variables {\n  n = 3\n}\njob "x" {\n  group "g" {\n    count = var.n\n'
        '    task "t" {}\n  }\n}\n'
    )
    assert parse(text).task_groups[0].count == 3


def test_variable_wrong_type() -> None:
    with pytest.raises(
        JobSpecError,
        match=r'invalid value for variable "count": expected a number, got string "many"',
    ):
        config_value("var.count", VARIABLES, {"count": "many"})


def test_variable_validation() -> None:
    text = (
        'variable "n" {\n  default = 0\n  validation {\n    condition = var.n > 0\n'
        '    error_message = "n must be positive"\n  }\n}\njob "x" {}\n'
    )
    with pytest.raises(
        JobSpecError, match=r'^<stdin>:3:3: invalid value for variable "n": n must be positive'
    ):
        parse(text)
    assert parse(text, variables={"n": "2"}).id == "x"


def test_crlf_line_endings_parse_like_lf() -> None:
    text = (
        'variable "n" {\n  default = 2\n}\njob "x" {\n  # comment\n  group "g" {\n'
        '    count = var.n\n    task "t" {\n      env { A = "${NOMAD_TASK_NAME}" }\n    }\n  }\n}\n'
    )
    assert parse(text.replace("\n", "\r\n")) == parse(text)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("vars.hcl", 'image = "nginx"\ncount = 3\ndcs = ["a", "b"]\n'),
        ("vars.json", '{"image": "nginx", "count": 3, "dcs": ["a", "b"]}'),
    ],
)
def test_var_files(tmp_path, name: str, content: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(content)
    variables = parse_var_file(str(path))
    assert variables == {"image": "nginx", "count": "3", "dcs": '["a", "b"]'}
    assert config_value("var.dcs", VARIABLES, variables) == ["a", "b"]
    assert config_value("var.count", VARIABLES, variables) == 3


def test_var_file_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "vars.hcl"
    path.write_text('image = "a"\nimage = "b"\n')
    with pytest.raises(JobSpecError, match=r'vars.hcl:2:1: attribute "image" redefined'):
        parse_var_file(str(path))
    with pytest.raises(JobSpecError, match=r"cannot read variable file"):
        parse_var_file(str(tmp_path / "missing.hcl"))
