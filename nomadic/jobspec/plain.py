"""Schemaless blocks (a driver's ``config``, a scaling ``policy``) as plain data.

Arguments keep their values; nested blocks become lists of objects (labels nest as
``{label: {...}}``), the shape Nomad's API JSON uses for them.
"""

from __future__ import annotations

from typing import Any

from .expressions import Evaluator
from .syntax import Body

__all__ = ["plain_body"]


def plain_body(ev: Evaluator, body: Body) -> dict[str, Any]:
    data: dict[str, Any] = {name: ev.eval(attr.expr) for name, attr in body.attributes.items()}
    for block in body.blocks:
        value: Any = plain_body(ev, block.body)
        for label in reversed(block.labels):
            value = {label: value}
        existing = data.setdefault(block.type, [])
        if not isinstance(existing, list):
            raise block.span.error(f'"{block.type}" is set both as an argument and as a block')
        existing.append(value)
    return data
