"""The Go text/template subset task templates are rendered with: one row per feature."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomadic.client.gotemplate import Template, TemplateError
from nomadic.client.templatefuncs import template_functions

ENV = {"NOMAD_ALLOC_INDEX": "2", "LIST": "a,b,c", "EMPTY": ""}


def render(text: str, tmp_path: Path, **delims: str) -> str:
    return Template(text, **delims).render(template_functions(ENV, tmp_path))


CASES = [
    ("text", "plain text\n", "plain text\n"),
    ("env", 'i={{ env "NOMAD_ALLOC_INDEX" }}', "i=2"),
    ("env-missing-is-empty", '[{{ env "NOPE" }}]', "[]"),
    ("env-or-default", '{{ envOrDefault "EMPTY" "d" }}', "d"),
    ("trim-markers", 'a  \n  {{- "b" -}}  \n  c', "abc"),
    ("comment", "a{{/* a comment */}}b", "ab"),
    (
        "if-else-if",
        '{{ if eq (env "NOMAD_ALLOC_INDEX") "1" }}1{{ else if eq 2 2 }}2{{ else }}3{{ end }}',
        "2",
    ),
    ("if-false", "{{ if false }}x{{ else }}y{{ end }}", "y"),
    (
        "range-with-index",
        '{{ range $i, $v := split "," (env "LIST") }}{{ $i }}{{ $v }};{{ end }}',
        "0a;1b;2c;",
    ),
    ("range-dot", '{{ range split "," "x,y" }}<{{ . }}>{{ end }}', "<x><y>"),
    ("range-else", '{{ range split "," "" }}x{{ else }}none{{ end }}', "none"),
    (
        "range-map-sorted",
        '{{ range $k, $v := parseJSON `{"b":2,"a":1}` }}{{ $k }}={{ $v }} {{ end }}',
        "a=1 b=2 ",
    ),
    (
        "with",
        '{{ with env "LIST" }}[{{ . }}]{{ end }}{{ with env "NOPE" }}x{{ else }}-{{ end }}',
        "[a,b,c]-",
    ),
    ("variables", "{{ $x := 1 }}{{ $x = 5 }}{{ $x }}", "5"),
    ("pipeline", '{{ "abc" | toUpper | printf "%s!" }}', "ABC!"),
    ("printf", '{{ printf "%03d|%.2f|%q|%v" 7 3.14159 "s" true }}', '007|3.14|"s"|true'),
    ("arithmetic", "{{ 10 | subtract 3 }} {{ 4 | multiply 3 }} {{ 9 | divide 2 }}", "7 12 4"),
    ("loop-len", "{{ loop 3 | len }}{{ range loop 2 }}{{ . }}{{ end }}", "301"),
    ("json", '{{ toJSON (parseJSON `{"a":[1,2]}`) }}', '{"a":[1,2]}'),
    ("base64", '{{ "hi" | base64Encode }} {{ "aGk=" | base64Decode }}', "aGk= hi"),
    (
        "strings",
        '{{ "a-b" | replaceAll "-" "+" }} {{ " x " | trimSpace }} {{ "ab" | contains "b" }}',
        "a+b x true",
    ),
    ("and-or-not", "{{ and 1 0 }} {{ or 0 2 }} {{ not true }}", "0 2 false"),
    ("index", '{{ index (parseJSON `{"k":["v"]}`) "k" 0 }}', "v"),
    ("raw-string-and-escapes", '{{ `a\\n` }}{{ "b\\tc" }}', "a\\nb\tc"),
    ("sprig", '{{ sprig_default "d" "" }}{{ "x" | sprig_upper }}', "dX"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in CASES])
def test_renders(text: str, expected: str, tmp_path: Path) -> None:
    assert render(text, tmp_path) == expected


def test_custom_delimiters_leave_braces_alone(tmp_path: Path) -> None:
    out = render(
        '[[ env "NOMAD_ALLOC_INDEX" ]] {{ not a action }}', tmp_path, left="[[", right="]]"
    )
    assert out == "2 {{ not a action }}"


def test_file_reads_inside_the_sandbox_only(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "in.txt").write_text("inside")
    assert render('{{ file "local/in.txt" }}', tmp_path) == "inside"
    with pytest.raises(TemplateError, match="outside the allocation directory"):
        render('{{ file "/etc/hostname" }}', tmp_path)


ERRORS = [
    ("consul-key", '{{ key "x" }}', 'line 1: Consul is not available: the template function "key"'),
    ("consul-service", '{{ range service "db" }}{{ end }}', "Consul is not available"),
    ("vault", '{{ with secret "kv/x" }}{{ end }}', "Vault is not available"),
    ("nomad-var", '{{ nomadVar "x" }}', "Nomad variables and services are not available yet"),
    ("unknown-function", "{{ nope }}", 'line 1: function "nope" not defined'),
    (
        "alloc-data",
        "a\n{{ .Alloc.ID }}",
        "line 2: .Alloc.ID does not exist: Nomad templates have no data",
    ),
    ("unclosed-if", "{{ if true }}x", "{{if}} has no {{end}}"),
    ("stray-end", "{{ end }}", "unexpected {{end}}"),
    ("unclosed-action", "a {{ env", "unclosed action"),
    ("define", '{{ define "x" }}{{ end }}', "{{define}} is not supported"),
    ("undefined-variable", "{{ $nope }}", "undefined variable $nope"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in ERRORS])
def test_errors_are_clear(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        render(text, tmp_path)
    assert message in str(info.value)
