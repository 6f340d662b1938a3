"""Heredoc templates: the body of ``<<EOH ... EOH`` and the ``${...}`` sequences inside it.

python-hcl2 tokenises a heredoc as one opaque token (and drops its final newline; HCL keeps
it, and so do we). We cut the body out, de-indent ``<<-`` heredocs as HCL does, and split the
body into literal text and interpolations, each parsed as an expression of its own.
Backslashes are literal in heredocs; ``$${`` and ``%%{`` stand for ``${`` and ``%{``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark import Tree

from nomadic.errors import JobSpecError

from .diagnostics import Source, Span
from .grammar import parse_tree
from .syntax import Expr

__all__ = ["has_directive", "heredoc_body", "parse_expression", "quote_template", "scan_template"]

_DIRECTIVE = re.compile(r"(?<!%)%\{")
_OPENER = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")


def heredoc_body(token: str, *, trim: bool) -> str:
    """The text between a heredoc's opening and closing marker lines, final newline kept."""
    opener = _OPENER.match(token)
    start = opener.end() if opener else len(token)
    lines = token[start:].rstrip("\r\n").split("\n")
    body_lines = lines[:-1]  # the last line is the closing marker
    if trim:
        indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
        cut = min(indents, default=0)
        body_lines = [ln[cut:] for ln in body_lines]
    return "".join(ln + "\n" for ln in body_lines)


def scan_template(body: str, heredoc: Span) -> Iterator[str | tuple[Expr, Span]]:
    """Split a heredoc body into literal strings and ``${...}`` expressions.

    Each expression comes with the place in the job file to blame for its errors (the
    expression's own positions index the small text it was parsed from).
    """
    i, literal = 0, []
    while i < len(body):
        if body.startswith(("$${", "%%{"), i):
            literal.append(body[i + 1 : i + 3])
            i += 3
        elif body.startswith("${", i):
            end = _closing_brace(body, i + 2)
            span = _span_at(body, i, heredoc)
            if end < 0:
                raise span.error('unterminated "${" in heredoc; add the closing "}"')
            if literal:
                yield "".join(literal)
                literal = []
            yield parse_expression(body[i + 2 : end], span), span
            i = end + 1
        else:
            literal.append(body[i])
            i += 1
    if literal:
        yield "".join(literal)


def has_directive(body: str) -> bool:
    """Whether a template text holds a ``%{ }`` directive (not the ``%%{`` escape)."""
    return _DIRECTIVE.search(body) is not None


def quote_template(body: str) -> str:
    """A template's text (a heredoc body, an HCL-JSON string) as an HCL quoted string.

    Literal text is escaped; ``${ }`` and ``%{ }`` sequences are copied as they are, so the
    grammar parses them as interpolations and directives; ``$${`` and ``%%{`` stay escapes.
    """
    out, i = ['"'], 0
    while i < len(body):
        if body.startswith(("$${", "%%{"), i):
            out.append(body[i : i + 3])
            i += 3
        elif body.startswith(("${", "%{"), i):
            end = _closing_brace(body, i + 2)
            if end < 0:
                out.append(_escape(body[i:]))
                break
            out.append(body[i : end + 1].replace("\r\n", " ").replace("\n", " "))
            i = end + 1
        else:
            out.append(_escape(body[i]))
            i += 1
    out.append('"')
    return "".join(out)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(c, c if c >= " " else f"\\u{ord(c):04x}") for c in text)


def _closing_brace(text: str, i: int) -> int:
    """Index of the ``}`` closing an interpolation that starts at ``i``, skipping strings."""
    depth, quoted = 0, False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _span_at(body: str, index: int, heredoc: Span) -> Span:
    before = body[:index]
    line = heredoc.line + 1 + before.count("\n")
    column = index - (before.rfind("\n") + 1) + 1
    return Span(heredoc.source, line, column)


def parse_expression(text: str, span: Span, what: str = "heredoc interpolation") -> Expr:
    """Parse ``text`` as one expression; errors are reported at ``span``."""
    if not text.strip():
        raise span.error(f"empty expression in {what}")
    wrapper = f"x = {text.strip()}"
    try:
        tree = parse_tree(wrapper, span.source.path)
    except JobSpecError as exc:  # re-pin the sub-parser's error to the heredoc
        first = str(exc).split("\n", 1)[0].split(": ", 1)[-1]
        raise span.error(f"in {what}: {first}") from None
    body = tree.children[0]
    items = [] if not isinstance(body, Tree) else body.children
    found = [c for c in items if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    if len(found) != 1 or found[0].data != "attribute":
        raise span.error(f"invalid expression in {what}: {text.strip()!r}")
    expr_tree = found[0].children[2]
    assert isinstance(expr_tree, Tree)
    return Expr(expr_tree, Span(Source(wrapper, span.source.path), 1, 5))
