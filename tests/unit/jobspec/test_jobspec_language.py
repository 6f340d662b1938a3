"""Language features added on top of the core evaluator: splats, template directives,
``dynamic`` blocks, the rest of the function library and the filesystem functions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse, parse_file
from nomadic.jobspec.expressions import Evaluator, Scope
from nomadic.jobspec.filesystem import filesystem_access
from nomadic.jobspec.syntax import parse_body

VARS: dict[str, Any] = {
    "l": [{"a": 1, "b": {"c": "x"}}, {"a": 2, "b": {"c": "y"}}],
    "names": ["a", "b"],
    "flag": False,
}


def ev(source: str) -> Any:
    body = parse_body(f"x = {source}\n", "t.hcl")
    return Evaluator(Scope(variables=VARS)).eval(body.attributes["x"].expr)


CASES = [
    ("full splat", "var.l[*].a", [1, 2]),
    ("full splat nested", "var.l[*].b.c", ["x", "y"]),
    ("attr splat", "var.l.*.a", [1, 2]),
    ("splat of null", "null[*]", []),
    ("runtime splat kept", "node.x[*].y", "${node.x[*].y}"),
    ("if directive", '"%{ if var.flag }on%{ else }off%{ endif }"', "off"),
    ("if without else", '"a%{ if !var.flag }b%{ endif }c"', "abc"),
    ("for directive", '"%{ for n in var.names }${n};%{ endfor }"', "a;b;"),
    ("for with strip", '"%{ for i, n in var.names ~} ${i}=${n}, %{~ endfor }"', "0=a,1=b,"),
    ("nested directives", '"%{ for n in var.names }%{ if n == "b" }B%{ endif }%{ endfor }"', "B"),
    (
        "format verbs",
        'format("%-4s|%05d|%.2f|%q|%t|%x|%%", "ab", 42, 3.14159, "q", true, 255)',
        'ab  |00042|3.14|"q"|true|ff|%',
    ),
    ("format %v list", 'format("%v", [1, "a"])', '[1, "a"]'),
    ("formatlist", 'formatlist("%s-%d", ["a", "b"], [1, 2])', ["a-1", "b-2"]),
    ("yamldecode", 'yamldecode("a: [1, 2]")', {"a": [1, 2]}),
    ("yamlencode", "yamlencode({a = [1]})", "a:\n- 1\n"),
    ("csvdecode", 'csvdecode("a,b\\n1,2\\n")', [{"a": "1", "b": "2"}]),
    ("md5", 'md5("hello")', "5d41402abc4b2a76b9719d911017c592"),
    ("sha1", 'sha1("hello")', "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    (
        "sha256",
        'sha256("hello")',
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ),
    ("base64sha256", 'base64sha256("hello")', "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="),
    ("base64 round trip", 'base64decode(base64encode("hé"))', "hé"),
    ("uuidv5 dns", 'uuidv5("dns", "www.terraform.io")', "a5008fae-b28c-5ba5-96cd-82b4c53552d6"),
    ("cidrhost", 'cidrhost("10.12.112.0/20", 268)', "10.12.113.12"),
    ("cidrhost negative", 'cidrhost("10.0.0.0/24", -2)', "10.0.0.254"),
    ("cidrnetmask", 'cidrnetmask("172.16.0.0/12")', "255.240.0.0"),
    ("cidrsubnet", 'cidrsubnet("172.16.0.0/12", 4, 2)', "172.18.0.0/16"),
    (
        "cidrsubnets",
        'cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
        ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"],
    ),
    (
        "formatdate",
        'formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")',
        "02 Jan 2018 23:12 UTC",
    ),
    (
        "formatdate literal",
        'formatdate("EEEE \'at\' h:mm AA", "2018-01-01T15:04:00Z")',
        "Monday at 15:04 PM",
    ),
    ("timeadd", 'timeadd("2017-11-22T00:00:00Z", "1h10m")', "2017-11-22T01:10:00Z"),
    ("timeadd negative", 'timeadd("2017-11-22T00:00:00Z", "-10s")', "2017-11-21T23:59:50Z"),
    ("setunion", 'setunion(["a"], ["b", "a"])', ["a", "b"]),
    ("setintersection", 'setintersection(["a", "b"], ["b", "c"])', ["b"]),
    ("setsubtract", 'setsubtract(["a", "b"], ["b"])', ["a"]),
    ("setproduct", 'setproduct(["a", "b"], [1])', [["a", 1], ["b", 1]]),
    ("chunklist", "chunklist([1, 2, 3], 2)", [[1, 2], [3]]),
    ("coalescelist", "coalescelist([], [1])", [1]),
    ("regex", 'regex("(\\\\d+)-(\\\\d+)", "10-20")', ["10", "20"]),
    ("regexall", 'regexall("\\\\d", "a1b2")', ["1", "2"]),
    ("regex_replace", 'regex_replace("hello world", "o(\\\\w)", "0$1")', "hello w0rld"),
    ("startswith", 'startswith("nomad", "no")', True),
    ("strcontains", 'strcontains("nomad", "ma")', True),
    ("alltrue", "alltrue([true, true])", True),
    ("anytrue", "anytrue([false])", False),
    ("sum", "sum([1, 2.5])", 3.5),
    ("one", "one([])", None),
    ("log", "log(8, 2)", 3),
    ("trimleft", 'trimleft("xxa", "x")', "a"),
    ("convert list", 'convert(["1", 2], list(number))', [1, 2]),
    ("convert set dedups", 'convert(["a", "a", "b"], set(string))', ["a", "b"]),
    ("convert map", "convert({a = 1, b = true}, map(string))", {"a": "1", "b": "true"}),
    ("convert object", 'convert({n = "3", x = 1}, object({n = number}))', {"n": 3}),
    ("convert tuple", 'convert([1, "2"], tuple([string, number]))', ["1", 2]),
    ("convert any", "convert([1], any)", [1]),
    ("single interpolation keeps a list", '"${var.names}"', ["a", "b"]),
    ("single interpolation prints a number", '"${1 + 1}"', "2"),
    ("heredoc keeps final newline", "<<EOT\na\nEOT\n", "a\n"),
    ("indented heredoc strips indent", "<<-EOT\n    a\n      b\n    EOT\n", "a\n  b\n"),
    ("heredoc escapes", "<<EOT\n$${x} %%{y} \\n\nEOT\n", "${x} %{y} \\n\n"),
    ("quoted escapes", '"$${x} %%{y}"', "${x} %{y}"),
    (
        "heredoc for directive",
        "<<-EOT\n  %{ for n in var.names ~}\n  - ${n}\n  %{ endfor ~}\nEOT\n",
        "- a\n- b\n",
    ),
    (
        "heredoc if directive",
        '<<EOT\n%{ if var.flag }yes%{ else }no "q"%{ endif }\nEOT\n',
        'no "q"\n',
    ),
]


@pytest.mark.parametrize(("source", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_expression(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_uuid_and_bcrypt_have_the_right_shape() -> None:
    assert re.fullmatch(r"[0-9a-f-]{36}", ev("uuidv4()"))
    import bcrypt

    hashed = ev('bcrypt("secret", 4)')
    assert hashed.startswith("$2a$04$") and bcrypt.checkpw(b"secret", hashed.encode())


ERRORS = [
    ("unclosed if", '"%{ if true }x"', "never closed; add %{ endif }"),
    ("stray endfor", '"x%{ endfor }"', "without a matching opening directive"),
    ("if needs bool", '"%{ if 3 }x%{ endif }"', "needs a bool condition"),
    ("bad cidr", 'cidrhost("nope", 1)', "invalid CIDR prefix 'nope'"),
    ("bad yaml", 'yamldecode("a: [")', "invalid YAML"),
    ("bad time", 'timeadd("yesterday", "1h")', "is not an RFC 3339 timestamp"),
    ("bad duration", 'timeadd("2017-11-22T00:00:00Z", "1 hour")', "invalid duration"),
    ("format too few", 'format("%s %s", "a")', "not enough arguments"),
    ("fs disabled", 'file("x.txt")', "filesystem function disabled"),
    ("csv fields", 'csvdecode("a,b\\n1\\n")', "expected 2 fields, found 1"),
]


@pytest.mark.parametrize(("source", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_expression_errors(source: str, message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        ev(source)
    assert message in str(info.value)
    assert str(info.value).startswith("t.hcl:1:")


def test_filesystem_functions_relative_to_the_job_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.conf").write_text("port=8080\n")
    (tmp_path / "conf" / "b.conf").write_text("b\n")
    with filesystem_access(str(tmp_path)):
        assert ev('file("conf/app.conf")') == "port=8080\n"
        assert ev('fileexists("conf/app.conf")') is True
        assert ev('fileexists("conf/none")') is False
        assert ev('fileset("conf", "*.conf")') == ["app.conf", "b.conf"]
        assert ev('filebase64("conf/b.conf")') == "Ygo="
        assert ev('abspath("conf")') == str(tmp_path / "conf")
        assert ev('basename("a/b.txt")') == "b.txt"
        assert ev('dirname("a/b.txt")') == "a"
        with pytest.raises(JobSpecError, match="cannot read 'missing'"):
            ev('file("missing")')


JOB_WITH_FILE = """
job "files" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = trimspace(file("cmd.txt")) }
    }
  }
}
"""


def test_parse_file_enables_fs_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "cmd.txt").write_text("/bin/true\n")
    job_path = tmp_path / "job.hcl"
    job_path.write_text(JOB_WITH_FILE)
    job = parse_file(str(job_path), allow_fs=True)
    assert job.task_groups[0].tasks[0].config["command"] == "/bin/true"
    with pytest.raises(JobSpecError, match="filesystem function disabled"):
        parse_file(str(job_path))


DYNAMIC_JOB = """
variable "ports" { default = { http = 8080, admin = 9090 } }
variable "envs" { default = ["a", "b"] }
job "dyn" {
  group "g" {
    network {
      dynamic "port" {
        for_each = var.ports
        iterator = p
        labels   = [p.key]
        content { to = p.value }
      }
    }
    dynamic "task" {
      for_each = var.envs
      labels   = ["task-${task.value}"]
      content {
        driver = "raw_exec"
        config {
          command = "/bin/echo"
          args    = [task.value, "${task.key}"]
        }
      }
    }
  }
}
"""


def test_dynamic_blocks_expand() -> None:
    group = parse(DYNAMIC_JOB).task_groups[0]
    ports = {p.label: p.to for p in group.networks[0].dynamic_ports}
    assert ports == {"http": 8080, "admin": 9090}
    assert [t.name for t in group.tasks] == ["task-a", "task-b"]
    assert group.tasks[1].config["args"] == ["b", "1"]


def test_dynamic_block_errors_name_the_problem() -> None:
    bad = DYNAMIC_JOB.replace("content { to = p.value }", "")
    with pytest.raises(JobSpecError, match=r'dynamic "port" needs exactly one content'):
        parse(bad)
    bad = DYNAMIC_JOB.replace("for_each = var.ports", "for_eac = var.ports")
    with pytest.raises(JobSpecError, match='did you mean "for_each"'):
        parse(bad)
