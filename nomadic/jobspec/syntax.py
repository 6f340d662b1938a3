"""HCL structure with positions: the Lark tree folded into bodies, attributes and blocks.

This layer knows HCL's structural rules (attributes are unique within a body, block labels
are literal strings) but nothing of Nomad's schema and nothing of expression values:
expressions stay Lark subtrees (:class:`Expr`) for :mod:`nomadic.jobspec.expressions` to
evaluate on demand, so the decoder can evaluate an attribute in the scope where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hcl2.utils import process_escape_sequences
from lark import Token, Tree

from .diagnostics import Source, Span
from .grammar import parse_tree

__all__ = ["Attribute", "Block", "Body", "Expr", "parse_body", "span_of"]

LarkTree = Tree[Token]


@dataclass(frozen=True, slots=True)
class Expr:
    """An unevaluated expression: its Lark subtree, where it starts, and the names bound
    around it (a ``dynamic`` block's iterator), if any."""

    tree: LarkTree
    span: Span
    bindings: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    span: Span


@dataclass(slots=True)
class Block:
    type: str
    labels: list[str]
    body: Body
    span: Span


@dataclass(slots=True)
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def span_of(node: LarkTree | Token, source: Source) -> Span:
    if isinstance(node, Token):
        return Span(source, node.line or 0, node.column or 0)
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span(source, 0, 0)
    return Span(source, meta.line, meta.column)


def parse_body(text: str, path: str) -> Body:
    """Parse a whole HCL file into its top-level :class:`Body`."""
    source = Source(text, path)
    start = parse_tree(text, path)
    body_tree = next(c for c in start.children if isinstance(c, Tree) and c.data == "body")
    return _body(body_tree, source)


def _body(tree: LarkTree, source: Source) -> Body:
    body = Body()
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            attr = _attribute(child, source)
            if attr.name in body.attributes:
                first = body.attributes[attr.name].span
                raise attr.span.error(
                    f'attribute "{attr.name}" redefined; it was already set on line {first.line}'
                )
            body.attributes[attr.name] = attr
        elif child.data == "block":
            body.blocks.append(_block(child, source))
    return body


def _attribute(tree: LarkTree, source: Source) -> Attribute:
    name_node, _eq, expr_tree = tree.children
    assert isinstance(expr_tree, Tree)
    return Attribute(
        name=_name(name_node),
        expr=Expr(expr_tree, span_of(expr_tree, source)),
        span=span_of(tree, source),
    )


def _block(tree: LarkTree, source: Source) -> Block:
    parts = [c for c in tree.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    head, body_tree = parts[:-1], parts[-1]
    labels = [_label(node, source) for node in head[1:]]
    return Block(
        type=_name(head[0]),
        labels=labels,
        body=_body(body_tree, source),
        span=span_of(tree, source),
    )


def _name(node: LarkTree | Token) -> str:
    """The text of an identifier-like node (identifier, keyword, or true/false/null)."""
    if isinstance(node, Token):
        return str(node)
    return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token)))


def _label(node: LarkTree | Token, source: Source) -> str:
    if isinstance(node, Tree) and node.data == "string":
        text = []
        for part in node.children:
            if not isinstance(part, Tree):
                continue  # the quotes
            value = part.children[0]
            if not isinstance(value, Token) or value.type != "STRING_CHARS":
                raise span_of(node, source).error(
                    "block labels must be literal strings; interpolation is not allowed here"
                )
            text.append(process_escape_sequences(str(value)))
        return "".join(text)
    return _name(node)
