"""HCL's ``dynamic`` blocks: expanded into ordinary blocks before the job is decoded.

::

    dynamic "port" {            # the type of block to generate
      for_each = var.ports      # a list or map
      iterator = p              # optional; defaults to the block type ("port")
      labels   = [p.value]      # optional labels of each generated block
      content { static = p.value }
    }

Each generated block's expressions keep the iterator (``p.key``, ``p.value``) bound, so the
decoder evaluates them lazily as it does any other attribute; ``dynamic`` blocks nest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .diagnostics import did_you_mean
from .expressions import Evaluator
from .syntax import Attribute, Block, Body, Expr
from .values import describe, to_string

__all__ = ["expand_dynamic"]

_DYNAMIC_ATTRS = ("for_each", "iterator", "labels")


def expand_dynamic(evaluator: Evaluator, block: Block, bindings: Mapping[str, Any] = {}) -> Block:
    """``block`` with every ``dynamic`` block inside it (at any depth) expanded."""
    return Block(block.type, block.labels, _body(evaluator, block.body, bindings), block.span)


def _body(evaluator: Evaluator, body: Body, bindings: Mapping[str, Any]) -> Body:
    attributes = {
        name: _bind(attr, bindings) if bindings else attr for name, attr in body.attributes.items()
    }
    blocks: list[Block] = []
    for child in body.blocks:
        if child.type == "dynamic":
            blocks.extend(_expand(evaluator, child, bindings))
        else:
            blocks.append(expand_dynamic(evaluator, child, bindings))
    return Body(attributes, blocks)


def _bind(attr: Attribute, bindings: Mapping[str, Any]) -> Attribute:
    names = {**(attr.expr.bindings or {}), **bindings}
    return Attribute(attr.name, Expr(attr.expr.tree, attr.expr.span, names), attr.span)


def _expand(evaluator: Evaluator, block: Block, bindings: Mapping[str, Any]) -> list[Block]:
    if len(block.labels) != 1:
        raise block.span.error(
            'a dynamic block needs one label, the type of block to generate: dynamic "port" {...}'
        )
    kind, body = block.labels[0], block.body
    for name, attr in body.attributes.items():
        if name not in _DYNAMIC_ATTRS:
            hint = did_you_mean(name, _DYNAMIC_ATTRS)
            raise attr.span.error(f'unsupported argument "{name}" in dynamic "{kind}"{hint}')
    contents = [b for b in body.blocks if b.type == "content"]
    others = [b for b in body.blocks if b.type != "content"]
    if others:
        raise others[0].span.error(
            f'unsupported block "{others[0].type}" in dynamic "{kind}"; put the generated '
            "block's body in a content { ... } block"
        )
    if len(contents) != 1:
        raise block.span.error(f'dynamic "{kind}" needs exactly one content {{ ... }} block')
    if "for_each" not in body.attributes:
        raise block.span.error(f'dynamic "{kind}" needs a for_each argument (a list or map)')
    iterator = kind
    if "iterator" in body.attributes:
        expr = body.attributes["iterator"].expr
        iterator = expr.span.source.text[expr.tree.meta.start_pos : expr.tree.meta.end_pos]
        if not iterator.isidentifier():
            raise expr.span.error("iterator must be a bare name, like iterator = item")
    collection = evaluator.eval(_bind(body.attributes["for_each"], bindings).expr)
    if isinstance(collection, dict):
        pairs: list[tuple[Any, Any]] = list(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        where = body.attributes["for_each"].span
        raise where.error(f"for_each must be a list or map, got {describe(collection)}")
    result = []
    for key, value in pairs:
        inner = {**bindings, iterator: {"key": key, "value": value}}
        labels: list[str] = []
        if "labels" in body.attributes:
            raw = evaluator.eval(_bind(body.attributes["labels"], inner).expr)
            if not isinstance(raw, list):
                raise body.attributes["labels"].span.error("labels must be a list of strings")
            labels = [to_string(label) for label in raw]
        generated = _body(evaluator, contents[0].body, inner)
        result.append(Block(kind, labels, generated, contents[0].span))
    return result
