"""Canonical formatting of HCL files (``nomadic fmt``), in the style of ``nomad fmt``.

Rules: two spaces of indentation per open brace/bracket/parenthesis; one space either side of
an attribute's ``=``, with the ``=`` of a run of consecutive one-line attributes at the same
depth aligned; no trailing whitespace; at most one blank line in a row; no blank lines at the
start or end; one final newline. Heredoc bodies and ``/* */`` comments are kept verbatim.
Formatting is idempotent: ``format_hcl(format_hcl(x)) == format_hcl(x)``. A file that is not
valid HCL is refused with the parser's error rather than reformatted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import parse_body

__all__ = ["format_hcl"]

_ATTRIBUTE = re.compile(r"^([A-Za-z_][\w-]*)\s*=(?!=)\s*(.*)$")
_HEREDOC = re.compile(r"<<-?([A-Za-z_]\w*)\s*$")
_OPEN, _CLOSE = "{[(", "}])"


@dataclass
class _Line:
    text: str  # stripped content, or the verbatim line
    depth: int
    verbatim: bool = False
    name: str = ""  # set for a one-line-starting attribute
    value: str = ""
    run_breaker: bool = True


def format_hcl(text: str, path: str = "<input>") -> str:
    """``text`` in canonical form; raises JobSpecError if it is not valid HCL."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    parse_body(text, path)  # refuse what is not HCL, with the parser's message
    lines = _scan(text.split("\n"))
    _align(lines)
    out: list[str] = []
    for line in lines:
        if line.verbatim:
            out.append(line.text)
        elif not line.text:
            if out and out[-1] != "":
                out.append("")
        else:
            out.append("  " * line.depth + line.text)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _scan(raw_lines: list[str]) -> list[_Line]:
    lines: list[_Line] = []
    depth = 0
    heredoc: str | None = None
    in_comment = False
    for raw in raw_lines:
        if heredoc is not None:
            lines.append(_Line(raw.rstrip("\n"), depth, verbatim=True))
            if raw.strip() == heredoc:
                heredoc = None
            continue
        if in_comment:
            lines.append(_Line(raw.rstrip(), depth, verbatim=True))
            in_comment = "*/" not in raw
            continue
        stripped = raw.strip()
        leading = len(stripped) - len(stripped.lstrip(_CLOSE))
        line = _Line(stripped, max(depth - leading, 0))
        match = _ATTRIBUTE.match(stripped)
        delta, opens_comment, code = _brackets(stripped)
        if match:
            line.name, line.value = match.group(1), match.group(2)
            line.run_breaker = delta != 0
            line.text = f"{line.name} = {line.value}"
        depth = max(depth + delta, 0)
        lines.append(line)
        heredoc_match = _HEREDOC.search(code)
        if heredoc_match:
            heredoc = heredoc_match.group(1)
        in_comment = opens_comment
    return lines


def _brackets(line: str) -> tuple[int, bool, str]:
    """Net bracket depth change of a line (outside strings and comments), whether it leaves
    a ``/*`` comment open, and the line's code with strings and comments blanked."""
    delta, i, stack = 0, 0, [""]  # stack: "" code, '"' string, "i" interpolation
    code: list[str] = []
    while i < len(line):
        char, pair, mode = line[i], line[i : i + 2], stack[-1]
        if mode == '"':
            if char == "\\":
                i += 2
                continue
            if pair in ("${", "%{") and line[i : i + 3] not in ("$${", "%%{"):
                stack.append("i")
                i += 2
                continue
            if pair in ("$$", "%%"):
                i += 2
                continue
            if char == '"':
                stack.pop()
            i += 1
            continue
        if char == '"':
            stack.append('"')
        elif char == "#" or pair == "//":
            break
        elif pair == "/*":
            end = line.find("*/", i + 2)
            if end < 0:
                return delta, True, "".join(code)
            i = end + 2
            continue
        elif char in _OPEN:
            if mode == "i":
                stack.append("b")
            else:
                delta += 1
        elif char in _CLOSE:
            if mode in ("i", "b"):
                stack.pop()
            else:
                delta -= 1
        code.append(char)
        i += 1
    return delta, False, "".join(code)


def _align(lines: list[_Line]) -> None:
    run: list[_Line] = []
    for line in [*lines, _Line("", 0)]:
        if line.name and not line.verbatim and (not run or line.depth == run[0].depth):
            run.append(line)
            if not line.run_breaker:
                continue
        _pad(run)
        run = [line] if line.name and not line.verbatim and not line.run_breaker else []
    _pad(run)


def _pad(run: list[_Line]) -> None:
    width = max((len(line.name) for line in run), default=0)
    for line in run:
        line.text = f"{line.name.ljust(width)} = {line.value}"
