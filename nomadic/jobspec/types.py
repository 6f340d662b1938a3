"""HCL type expressions and conversion to them: the ``convert(value, type)`` function.

A type is written as in HCL: ``string``, ``number``, ``bool``, ``any``, ``list(T)``,
``set(T)``, ``map(T)``, ``tuple([T, ...])`` or ``object({name = T, ...})``. :func:`parse_type`
reads that text into a small tree of tuples; :func:`convert_to` converts a value to it
recursively with HCL's safe conversions (``"3"`` to 3, ``true`` to ``"true"``); an impossible
one raises :class:`~nomadic.jobspec.values.ConversionError` naming what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from .values import ConversionError, describe, to_bool, to_float, to_string

__all__ = ["TypeSpec", "convert_to", "parse_type"]

# ("string",) | ("list", T) | ("tuple", [T...]) | ("object", {name: T})
TypeSpec = tuple[Any, ...]

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*|[()\[\]{},=])")
_PRIMITIVES = ("string", "number", "bool", "any")


def parse_type(text: str) -> TypeSpec:
    """``list(map(string))`` -> ``("list", ("map", ("string",)))``; ValueError if malformed."""
    tokens = _tokens(text)
    spec, pos = _parse(tokens, 0)
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r} in type {text!r}")
    return spec


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"invalid type {text!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _expect(tokens: list[str], pos: int, token: str) -> int:
    if pos >= len(tokens) or tokens[pos] != token:
        raise ValueError(f'expected "{token}" in the type')
    return pos + 1


def _parse(tokens: list[str], pos: int) -> tuple[TypeSpec, int]:
    if pos >= len(tokens):
        raise ValueError("missing type")
    name = tokens[pos]
    if name in _PRIMITIVES:
        return (name,), pos + 1
    if name in ("list", "set", "map"):
        pos = _expect(tokens, pos + 1, "(")
        inner, pos = _parse(tokens, pos)
        return (name, inner), _expect(tokens, pos, ")")
    if name == "tuple":
        pos = _expect(tokens, _expect(tokens, pos + 1, "("), "[")
        items: list[TypeSpec] = []
        while tokens[pos : pos + 1] != ["]"]:
            item, pos = _parse(tokens, pos)
            items.append(item)
            if tokens[pos : pos + 1] == [","]:
                pos += 1
        return ("tuple", items), _expect(tokens, pos + 1, ")")
    if name == "object":
        pos = _expect(tokens, _expect(tokens, pos + 1, "("), "{")
        attrs: dict[str, TypeSpec] = {}
        while tokens[pos : pos + 1] != ["}"]:
            key = tokens[pos] if pos < len(tokens) else ""
            pos = _expect(tokens, pos + 1, "=")
            attrs[key], pos = _parse(tokens, pos)
            if tokens[pos : pos + 1] == [","]:
                pos += 1
        return ("object", attrs), _expect(tokens, pos + 1, ")")
    raise ValueError(f"unknown type {name!r}; use string, number, bool, any, list(...), "
                     "set(...), map(...), tuple([...]) or object({...})")  # fmt: skip


def convert_to(value: Any, spec: TypeSpec) -> Any:
    """``value`` converted to ``spec``, recursively; ConversionError when impossible."""
    kind = spec[0]
    if value is None or kind == "any":
        return value
    if kind == "string":
        return to_string(value)
    if kind == "number":
        number = to_float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool":
        return to_bool(value)
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise ConversionError(f"expected a {kind}, got {describe(value)}")
        items = [convert_to(v, spec[1]) for v in value]
        if kind == "set":
            unique: list[Any] = []
            for item in items:
                if item not in unique:
                    unique.append(item)
            items = unique
        return items
    if kind == "map":
        if not isinstance(value, dict):
            raise ConversionError(f"expected a map, got {describe(value)}")
        return {k: convert_to(v, spec[1]) for k, v in value.items()}
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(spec[1]):
            raise ConversionError(f"expected a tuple of {len(spec[1])}, got {describe(value)}")
        return [convert_to(v, t) for v, t in zip(value, spec[1], strict=True)]
    if not isinstance(value, dict):
        raise ConversionError(f"expected an object, got {describe(value)}")
    missing = [k for k in spec[1] if k not in value]
    if missing:
        raise ConversionError(f'the object is missing attribute "{missing[0]}"')
    return {k: convert_to(value[k], t) for k, t in spec[1].items()}
