"""``nomadic fmt``'s formatter: canonical output, idempotence (a hypothesis property), and the
parser's promise that arbitrary input raises JobSpecError and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse
from nomadic.jobspec.formatter import format_hcl

FIXTURES = Path(__file__).parent / "fixtures"

MESSY = (
    'job "x" {\n group "g" {\n        count=1\n    a_long_name ="x"\n\n\n'
    '   network {\n port "a" {}\n}\n  }   \n}\n\n'
)
TIDY = (
    'job "x" {\n  group "g" {\n    count       = 1\n    a_long_name = "x"\n\n'
    '    network {\n      port "a" {}\n    }\n  }\n}\n'
)


def test_formats_indentation_alignment_and_blank_lines() -> None:
    assert format_hcl(MESSY) == TIDY


def test_heredocs_and_block_comments_are_kept_verbatim() -> None:
    text = "x = <<EOT\n   keep  = me\n{\nEOT\n/*\n   a = 1\n*/\ny = 2\n"
    assert format_hcl(text) == text


def test_invalid_hcl_is_refused() -> None:
    with pytest.raises(JobSpecError, match="invalid HCL syntax"):
        format_hcl('job "x" {\n', "bad.hcl")


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.hcl")), ids=lambda p: p.name)
def test_fixtures_format_idempotently_and_still_parse_the_same(path: Path) -> None:
    text = path.read_text()
    once = format_hcl(text)
    assert format_hcl(once) == once
    if path.name != "jobsubmissions-xyz.hcl":
        assert parse(once) == parse(text)


_NAMES = st.sampled_from(["count", "a", "long_name", "driver", "x-y"])
_VALUES = st.sampled_from(
    ['"s"', "1", "true", '["a", "b"]', '"${node.x}"', "{ a = 1 }", "[\n1,\n2\n]"]
)
_SPACE = st.sampled_from(["", " ", "   ", "\t"])


@st.composite
def hcl_bodies(draw: st.DrawFn, depth: int = 0) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        pad = draw(_SPACE)
        if depth < 2 and draw(st.booleans()):
            inner = draw(hcl_bodies(depth + 1))
            lines.append(f'{pad}block "{draw(_NAMES)}" {{\n{inner}{draw(_SPACE)}}}')
        else:
            lines.append(f"{pad}{draw(_NAMES)}{draw(_SPACE)}={draw(_SPACE)}{draw(_VALUES)}")
        if draw(st.booleans()):
            lines.append(draw(_SPACE))
    return "".join(line + "\n" for line in lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hcl_bodies())
def test_fmt_is_idempotent(text: str) -> None:
    try:
        once = format_hcl(text)
    except JobSpecError:
        return  # duplicate attributes and the like: refused, not formatted
    assert format_hcl(once) == once


_FRAGMENTS = st.sampled_from(
    [
        'job "x" {',
        "}",
        "group",
        '"g"',
        "{",
        "count = ",
        "1",
        "var.x",
        "${",
        '"',
        "[",
        "]",
        "<<EOT\n",
        "EOT",
        "%{ if",
        "for x in",
        ":",
        "\n",
        " ",
        "dynamic",
        "(",
        ")",
        ",",
        "=",
        "#",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(_FRAGMENTS, max_size=30).map("".join)))
def test_parse_raises_only_jobspec_errors(text: str) -> None:
    try:
        parse(text, "fuzz.hcl")
    except JobSpecError as exc:
        assert "internal error" not in str(exc)
