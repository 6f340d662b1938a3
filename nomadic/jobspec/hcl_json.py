"""HCL's JSON syntax: ``{"job": {"web": {"group": {"web": {...}}}}}`` read into a :class:`Body`.

The result is the same Body/Block/Attribute structure the native syntax gives, so variables,
locals, ``dynamic`` blocks and the jobspec decoder work on it unchanged. HCL-JSON needs the
schema to tell blocks from attributes; ours is the set of jobspec block types below (with
their label counts): a property named like a block whose value is an object, or a list of
objects, is a block; anything else is an attribute. Inside a driver's ``config`` block,
everything is an attribute (it has no schema here). ``"//"`` properties are comments.

Values are expressions as HCL defines them for JSON: every string is a template, so
``"${var.count}"`` and ``"%{ if ... }"`` work; numbers, bools and null are literals. Each
attribute's value is re-written as HCL text placed at the JSON value's line and column and
parsed with the HCL grammar, so errors point into the JSON file and quote its line.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lark import Tree

from nomadic.errors import JobSpecError

from .diagnostics import Source, Span, error_at
from .grammar import parse_tree
from .syntax import Attribute, Block, Body, Expr, span_of
from .templates import quote_template

__all__ = ["looks_like_hcl_json", "parse_hcl_json"]

# Block types of the jobspec and how many labels each takes.
BLOCK_LABELS: dict[str, int] = {
    **dict.fromkeys(("job", "group", "task", "variable", "port", "device", "volume"), 1),
    **dict.fromkeys(("target", "dynamic", "secret", "action", "region"), 1),
    **dict.fromkeys(
        (
            "locals", "variables", "validation", "constraint", "affinity", "spread", "update",
            "migrate", "reschedule", "periodic", "parameterized", "multiregion", "strategy",
            "ui", "link", "network", "dns", "cni", "service", "check", "check_restart",
            "restart", "ephemeral_disk", "scaling", "policy", "disconnect", "consul", "vault",
            "identity", "config", "resources", "logs", "lifecycle", "template", "wait",
            "change_script", "artifact", "volume_mount", "mount_options", "csi_plugin",
            "dispatch_payload", "content", "weights", "connect", "numa", "schedule",
        ),
        0,
    ),
}  # fmt: skip
_TOP_HCL_KEYS = frozenset({"job", "variable", "variables", "locals"})
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"true|false|null")
_SPACE = re.compile(r"[ \t\n\r]*")
# Arguments whose JSON string is an expression as written, not a template (HCL's rule for
# a variable's type and a dynamic block's iterator name).
_RAW_EXPRESSIONS = frozenset({("variable", "type"), ("dynamic", "iterator")})


def looks_like_hcl_json(data: Any) -> bool:
    """An HCL-JSON job file has lower-case top-level keys (job, variable, locals)."""
    return isinstance(data, dict) and bool(data) and set(data) - {"//"} <= _TOP_HCL_KEYS


@dataclass
class _Node:
    """A JSON value with where it starts (offset into the text)."""

    value: Any  # primitive; or list[_Node]; or list[tuple[str, int, _Node]] for objects
    offset: int
    kind: str  # "object", "array" or "scalar"
    pairs: list[tuple[str, int, _Node]] = field(default_factory=list)


class _Reader:
    """A JSON reader that remembers each value's offset (json.loads forgets them)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def skip(self, pos: int) -> int:
        """The first non-space position at or after ``pos`` (``_SPACE`` always matches)."""
        match = _SPACE.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int) -> tuple[_Node, int]:
        pos = self.skip(pos)
        char = self.text[pos]
        if char == "{":
            return self._object(pos)
        if char == "[":
            items: list[_Node] = []
            end = self.skip(pos + 1)
            if self.text[end] == "]":
                return _Node(items, pos, "array"), end + 1
            cursor = pos + 1
            while True:
                item, cursor = self.value(cursor)
                items.append(item)
                cursor = self.skip(cursor)
                if self.text[cursor] == "]":
                    return _Node(items, pos, "array"), cursor + 1
                cursor += 1  # the comma
        if char == '"':
            string, end = json.decoder.scanstring(self.text, pos + 1)  # type: ignore[attr-defined]
            return _Node(string, pos, "scalar"), end
        match = _NUMBER.match(self.text, pos) or _WORD.match(self.text, pos)
        assert match is not None  # the text already passed json.loads
        return _Node(json.loads(match.group(0)), pos, "scalar"), match.end()

    def _object(self, pos: int) -> tuple[_Node, int]:
        node = _Node(None, pos, "object")
        cursor = self.skip(pos + 1)
        if self.text[cursor] == "}":
            return node, cursor + 1
        while True:
            cursor = key_at = self.skip(cursor)
            key, after = json.decoder.scanstring(self.text, cursor + 1)  # type: ignore[attr-defined]
            colon = self.skip(after)
            value, cursor = self.value(colon + 1)
            node.pairs.append((key, key_at, value))
            cursor = self.skip(cursor)
            if self.text[cursor] == "}":
                return node, cursor + 1
            cursor += 1


class _Converter:
    def __init__(self, text: str, path: str) -> None:
        self.source = Source(text, path)
        self.path = path
        self.text = text
        self.line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def span(self, offset: int) -> Span:
        line = bisect.bisect_right(self.line_starts, offset)
        return Span(self.source, line, offset - self.line_starts[line - 1] + 1)

    def body(self, node: _Node, kind: str = "", *, schemaless: bool = False) -> Body:
        body = Body()
        for key, offset, value in node.pairs:
            if key == "//":
                continue
            if not schemaless and key in BLOCK_LABELS and _blocky(value):
                body.blocks += self.blocks(key, BLOCK_LABELS[key], value, offset, [])
                continue
            span = self.span(offset)
            if key in body.attributes:
                first = body.attributes[key].span.line
                raise span.error(f'attribute "{key}" redefined; it was already set on line {first}')
            raw = (kind, key) in _RAW_EXPRESSIONS and value.kind == "scalar"
            body.attributes[key] = Attribute(key, self.expr(value, raw=raw), span)
        return body

    def blocks(
        self, kind: str, labels: int, node: _Node, offset: int, seen: list[str]
    ) -> list[Block]:
        span = self.span(offset)
        if len(seen) < labels:
            if node.kind != "object":
                raise span.error(
                    f'"{kind}" needs {labels} label(s) here: write "{kind}": '
                    f'{{"<name>": {{ ... }}}} in HCL-JSON'
                )
            result: list[Block] = []
            for label, label_offset, inner in node.pairs:
                result += self.blocks(kind, labels, inner, label_offset, [*seen, label])
            return result
        bodies = node.value if node.kind == "array" else [node]
        for item in bodies:
            if item.kind != "object":
                raise self.span(item.offset).error(f'"{kind}" block body must be a JSON object')
        schemaless = kind == "config"
        return [
            Block(kind, list(seen), self.body(b, kind, schemaless=schemaless), span) for b in bodies
        ]

    def expr(self, node: _Node, *, raw: bool = False) -> Expr:
        hcl = node.value if raw and isinstance(node.value, str) else _as_hcl(node)
        span = self.span(node.offset)
        lead = "x" + " " * max(span.column - 3, 0) + "="
        text = "\n" * (span.line - 1) + lead + hcl
        source = Source(text, self.path, shown=self.text)
        try:
            tree = parse_tree(text, self.path)
        except JobSpecError as exc:
            first = str(exc).split("\n", 1)[0].split(": ", 1)[-1]
            raise span.error(f"in this JSON value: {first}") from None
        body = tree.children[0]
        assert isinstance(body, Tree)
        attribute = next(c for c in body.children if isinstance(c, Tree) and c.data == "attribute")
        expr_tree = attribute.children[2]
        assert isinstance(expr_tree, Tree)
        return Expr(expr_tree, span_of(expr_tree, source))


def _blocky(node: _Node) -> bool:
    if node.kind == "object":
        return True
    return node.kind == "array" and bool(node.value) and all(i.kind == "object" for i in node.value)


def _as_hcl(node: _Node) -> str:
    """A JSON value as the HCL expression HCL-JSON says it means (strings are templates)."""
    if node.kind == "object":
        items = ", ".join(f"{json.dumps(k)} = {_as_hcl(v)}" for k, _o, v in node.pairs)
        return "{" + items + "}"
    if node.kind == "array":
        return "[" + ", ".join(_as_hcl(v) for v in node.value) + "]"
    value = node.value
    if isinstance(value, str):
        return quote_template(value)
    return json.dumps(value)


def parse_hcl_json(text: str, path: str) -> Body:
    """Parse an HCL-JSON job file into its top-level :class:`Body`."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise error_at(f"invalid JSON: {exc.msg}", text, path, exc.lineno, exc.colno) from None
    converter = _Converter(text, path)
    root, _end = _Reader(text).value(0)
    if root.kind != "object":
        raise JobSpecError("a JSON job file must hold an object", path=path)
    return converter.body(root)
