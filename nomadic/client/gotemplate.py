"""A Go ``text/template`` interpreter for the subset Nomad task templates use without Consul.

Nomad renders ``template`` blocks with consul-template, whose language is Go's text/template
plus a function library. This module parses and executes that language:

- text and ``{{ pipeline }}`` actions, ``{{- `` / `` -}}`` whitespace trimming, comments
  ``{{/* ... */}}``, custom delimiters;
- ``if`` / ``else if`` / ``else``, ``range`` (with ``$i, $v :=``), ``with``, ``end``;
- variables (``$x := ...``, ``$x = ...``), pipelines (``a | b``), parentheses, ``.Field``;
- literals: strings ("..." and raw), numbers, ``true``, ``false``, ``nil``.

``define``/``template``/``block`` are refused. The functions are
:mod:`nomadic.client.templatefuncs`'s. Errors are :class:`TemplateError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Template", "TemplateError", "go_print", "truthy"]


class TemplateError(Exception):
    """The template cannot be parsed or executed; the message says where and why."""


# -- lexing actions ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<char>'(?:[^'\\]|\\.)')
    | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))
    | (?P<decl>:=)
    | (?P<punct>[()|=,])
    | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block"})


@dataclass
class _Tok:
    kind: str
    text: str


def _lex(text: str, line: int) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TemplateError(f"line {line}: unexpected {text[pos:].strip()[:10]!r} in action")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return tokens


# -- the parse tree ---------------------------------------------------------------------------


@dataclass
class _Pipe:
    decl: list[str]  # variables declared (:=) or assigned (=)
    assign: bool
    cmds: list[list[Any]]  # each command: operands (_Tok or nested _Pipe)
    line: int


@dataclass
class _Node:
    kind: str  # text, action, if, range, with
    text: str = ""
    pipe: _Pipe | None = None
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)


def _parse_pipe(tokens: list[_Tok], line: int) -> _Pipe:
    decl: list[str] = []
    assign = False
    names = [t for t in tokens[:3] if t.kind == "var"]
    for i, tok in enumerate(tokens[:4]):
        if tok.kind == "decl" or (tok.kind == "punct" and tok.text == "="):
            decl = [t.text for t in tokens[:i] if t.kind == "var"]
            if not decl or len(decl) != len(names[: len(decl)]):
                raise TemplateError(f"line {line}: bad variable declaration")
            assign = tok.text == "="
            tokens = tokens[i + 1 :]
            break
    cmds, _ = _parse_cmds(tokens, 0, line)
    if not cmds or not cmds[0]:
        raise TemplateError(f"line {line}: missing value for command")
    return _Pipe(decl, assign, cmds, line)


def _parse_cmds(tokens: list[_Tok], pos: int, line: int) -> tuple[list[list[Any]], int]:
    cmds: list[list[Any]] = [[]]
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.kind == "punct" and tok.text == ")":
            return cmds, pos
        if tok.kind == "punct" and tok.text == "|":
            cmds.append([])
        elif tok.kind == "punct" and tok.text == "(":
            inner, pos = _parse_cmds(tokens, pos + 1, line)
            if pos >= len(tokens):
                raise TemplateError(f"line {line}: unclosed left paren")
            cmds[-1].append(_Pipe([], False, inner, line))
        elif tok.kind == "punct":
            raise TemplateError(f"line {line}: unexpected {tok.text!r} in command")
        else:
            cmds[-1].append(tok)
        pos += 1
    return cmds, pos


def _split(text: str, left: str, right: str) -> list[tuple[str, str, int]]:
    """``(kind, content, line)`` pieces: ``text`` or ``action``, with trim markers applied."""
    pieces: list[tuple[str, str, int]] = []
    pos, line = 0, 1
    while True:
        start = text.find(left, pos)
        if start < 0:
            pieces.append(("text", text[pos:], line))
            return pieces
        literal = text[pos:start]
        inner_start = start + len(left)
        if text.startswith("- ", inner_start) or text.startswith("-\n", inner_start):
            literal = literal.rstrip()
            inner_start += 1
        pieces.append(("text", literal, line))
        line += text.count("\n", pos, start)
        end = text.find(right, inner_start)
        if end < 0:
            raise TemplateError(f"line {line}: unclosed action (missing {right!r})")
        content = text[inner_start:end]
        pos = end + len(right)
        if content.endswith(" -") or content.endswith("\n-"):
            content = content[:-1]
            rest = text[pos:]
            pos += len(rest) - len(rest.lstrip())
        pieces.append(("action", content, line))
        line += text.count("\n", start, pos)


def _parse(text: str, left: str, right: str) -> list[_Node]:
    root: list[_Node] = []
    stack: list[tuple[_Node, bool]] = []  # open block, and whether we are in its else branch
    target = root
    for kind, content, line in _split(text, left, right):
        if kind == "text":
            if content:
                target.append(_Node("text", content))
            continue
        stripped = content.strip()
        if stripped.startswith("/*"):
            continue
        tokens = _lex(stripped, line)
        if not tokens:
            raise TemplateError(f"line {line}: missing value for command")
        head = tokens[0].text if tokens[0].kind == "ident" else ""
        if head in ("define", "template", "block"):
            raise TemplateError(f"line {line}: {{{{{head}}}}} is not supported in Nomad templates")
        if head in ("if", "range", "with"):
            node = _Node(head, pipe=_parse_pipe(tokens[1:], line))
            target.append(node)
            stack.append((node, False))
            target = node.body
        elif head == "else":
            if not stack or stack[-1][1]:
                raise TemplateError(f"line {line}: unexpected {{{{else}}}}")
            node, _ = stack.pop()
            if len(tokens) > 1 and tokens[1].text in ("if", "with"):
                nested = _Node(tokens[1].text, pipe=_parse_pipe(tokens[2:], line))
                node.orelse.append(nested)
                stack.append((node, True))
                stack.append((nested, False))  # closed by the same {{end}}
                nested.text = "chained"
                target = nested.body
            else:
                stack.append((node, True))
                target = node.orelse
        elif head == "end":
            if not stack:
                raise TemplateError(f"line {line}: unexpected {{{{end}}}}")
            node, _ = stack.pop()
            while node.text == "chained":
                node, _ = stack.pop()
            target = _current(stack, root)
        else:
            target.append(_Node("action", pipe=_parse_pipe(tokens, line)))
    if stack:
        raise TemplateError(
            f"unexpected end of template: {{{{{stack[-1][0].kind}}}}} has no {{{{end}}}}"
        )
    return root


def _current(stack: list[tuple[_Node, bool]], root: list[_Node]) -> list[_Node]:
    if not stack:
        return root
    node, in_else = stack[-1]
    return node.orelse if in_else else node.body


# -- execution --------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """Go's notion of "true" for if/with/and/or: non-zero, non-empty, non-nil."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float | str | list | dict | tuple):
        return bool(value)
    return True


def go_print(value: Any) -> str:
    """How Go's fmt prints a value with %v."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_print(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


class Template:
    """A parsed template; :meth:`render` executes it against ``data`` with ``funcs``."""

    def __init__(self, text: str, left: str = "{{", right: str = "}}") -> None:
        self.tree = _parse(text, left or "{{", right or "}}")

    def render(
        self,
        funcs: Mapping[str, Callable[..., Any]],
        data: Any = None,
        *,
        missing_key_error: bool = False,
    ) -> str:
        run = _Run(funcs, missing_key_error)
        out: list[str] = []
        run.walk(self.tree, data, [{"$": data}], out)
        return "".join(out)


class _Run:
    def __init__(self, funcs: Mapping[str, Callable[..., Any]], missing_key_error: bool) -> None:
        self.funcs = funcs
        self.missing_key_error = missing_key_error

    def walk(
        self, nodes: list[_Node], dot: Any, scopes: list[dict[str, Any]], out: list[str]
    ) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                assert node.pipe is not None
                value = self.pipe(node.pipe, dot, scopes)
                if not node.pipe.decl:
                    out.append(go_print(value))
            elif node.kind in ("if", "with"):
                assert node.pipe is not None
                inner = [*scopes, {}]
                value = self.pipe(node.pipe, dot, inner)
                if truthy(value):
                    self.walk(node.body, value if node.kind == "with" else dot, inner, out)
                else:
                    self.walk(node.orelse, dot, inner, out)
            else:
                self._range(node, dot, scopes, out)

    def _range(self, node: _Node, dot: Any, scopes: list[dict[str, Any]], out: list[str]) -> None:
        assert node.pipe is not None
        pipe = _Pipe([], False, node.pipe.cmds, node.pipe.line)
        value = self.pipe(pipe, dot, scopes)
        if isinstance(value, dict):
            items = sorted(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None:
            items = []
        else:
            raise TemplateError(f"line {pipe.line}: range can't iterate over {go_print(value)}")
        if not items:
            self.walk(node.orelse, dot, scopes, out)
            return
        names = node.pipe.decl
        for key, item in items:
            scope: dict[str, Any] = {}
            if len(names) == 1:
                scope[names[0]] = item
            elif len(names) == 2:
                scope[names[0]], scope[names[1]] = key, item
            self.walk(node.body, item, [*scopes, scope], out)

    def pipe(self, pipe: _Pipe, dot: Any, scopes: list[dict[str, Any]]) -> Any:
        value: Any = _NOTHING
        for cmd in pipe.cmds:
            value = self.command(cmd, dot, scopes, value, pipe.line)
        for name in pipe.decl:
            if pipe.assign:
                for scope in reversed(scopes):
                    if name in scope:
                        scope[name] = value
                        break
                else:
                    raise TemplateError(f"line {pipe.line}: undefined variable {name}")
            else:
                scopes[-1][name] = value
        return value

    def command(
        self, cmd: list[Any], dot: Any, scopes: list[dict[str, Any]], piped: Any, line: int
    ) -> Any:
        if not cmd:
            raise TemplateError(f"line {line}: missing command after |")
        first = cmd[0]
        if (
            isinstance(first, _Tok)
            and first.kind == "ident"
            and first.text not in ("true", "false", "nil")
        ):
            name = first.text
            func = self.funcs.get(name)
            if func is None:
                raise TemplateError(f'line {line}: function "{name}" not defined')
            args = [self.operand(a, dot, scopes, line) for a in cmd[1:]]
            if piped is not _NOTHING:
                args.append(piped)
            try:
                return func(*args)
            except TemplateError as exc:
                raise TemplateError(f"line {line}: {exc}") from None
            except (TypeError, ValueError, KeyError, IndexError, ArithmeticError, OSError) as exc:
                raise TemplateError(f"line {line}: error calling {name}: {exc}") from None
        if len(cmd) > 1 or piped is not _NOTHING:
            raise TemplateError(f"line {line}: can't give arguments to a non-function value")
        return self.operand(first, dot, scopes, line)

    def operand(self, tok: Any, dot: Any, scopes: list[dict[str, Any]], line: int) -> Any:
        if isinstance(tok, _Pipe):
            return self.pipe(tok, dot, scopes)
        kind, text = tok.kind, tok.text
        if kind == "str":
            return _unquote(text)
        if kind == "raw":
            return text[1:-1]
        if kind == "char":
            return ord(_unquote(text))
        if kind == "num":
            number = (
                float(text)
                if any(c in text for c in ".eE") and "x" not in text.lower()
                else int(text, 0)
            )
            return number
        if kind == "ident":
            if text in ("true", "false"):
                return text == "true"
            if text == "nil":
                return None
            return self.command([tok], dot, scopes, _NOTHING, line)
        if kind == "var":
            name, _, rest = text.partition(".")
            for scope in reversed(scopes):
                if name in scope:
                    return self._fields(scope[name], rest, line) if rest else scope[name]
            raise TemplateError(f"line {line}: undefined variable {name}")
        if kind == "field":
            return dot if text == "." else self._fields(dot, text[1:], line)
        raise TemplateError(f"line {line}: unexpected {text!r}")

    def _fields(self, value: Any, path: str, line: int) -> Any:
        for name in path.split("."):
            if value is None:
                raise TemplateError(
                    f"line {line}: .{path} does not exist: Nomad templates have no data "
                    '(no .Alloc or .Task); use {{ env "NOMAD_ALLOC_ID" }} and the like'
                )
            if isinstance(value, dict):
                if name not in value:
                    if self.missing_key_error:
                        raise TemplateError(f'line {line}: map has no entry for key "{name}"')
                    return None
                value = value[name]
            else:
                raise TemplateError(
                    f"line {line}: can't evaluate field {name} in {type(value).__name__}; "
                    'Nomad templates have no data fields (use env "NOMAD_..." instead)'
                )
        return value


_NOTHING: Any = object()
