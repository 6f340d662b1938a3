"""Input variables and locals: ``variable "<name>" {}``, ``variables {}``, ``locals {}``.

Precedence, as in Nomad (last wins): ``default`` < ``NOMAD_VAR_<name>`` environment
variables < ``-var name=value``. A variable with no value at all is an error ("Unset
variable"), and so is a ``-var`` for a variable the file does not declare (Nomad's strict
mode, the CLI default). ``-var`` and environment values are strings, converted to the
declared type; list, map and object values are written as HCL expressions (``-var
'dcs=["dc1","dc2"]'``). Locals are evaluated lazily, so they may refer to each other in any
order; a cycle is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .diagnostics import Source, Span, did_you_mean
from .expressions import Evaluator, Scope
from .reader import BlockReader
from .syntax import Attribute, Body
from .templates import parse_expression
from .values import ConversionError, describe, to_bool, to_float, to_string

__all__ = ["build_scope"]

_PRIMITIVES = ("string", "number", "bool", "any")
_COLLECTIONS = ("list", "set", "tuple", "map", "object")


def build_scope(
    body: Body, source: Source, cli_vars: Mapping[str, str], envs: Mapping[str, str]
) -> Scope:
    """The scope the job block is evaluated in: every variable resolved, locals on demand."""
    plain = Evaluator(Scope())
    declared: dict[str, tuple[Span, str, Any]] = {}  # name -> (where, type, default)
    for block in body.blocks:
        if block.type == "variable":
            _declare_variable(plain, block.labels, block.body, block.span, declared)
        elif block.type == "variables":
            r = BlockReader.of(plain, block, "variables", attrs=block.body.attributes)
            for name, attr in block.body.attributes.items():
                _add(declared, name, attr.span, ("any", r.raw(name)))
    values: dict[str, Any] = {}
    for name, (span, type_name, default) in declared.items():
        raw: Any = default
        if f"NOMAD_VAR_{name}" in envs:
            raw = _from_text(envs[f"NOMAD_VAR_{name}"], type_name, span, "environment")
        if name in cli_vars:
            raw = _from_text(cli_vars[name], type_name, span, "-var")
        if raw is None:
            raise span.error(
                f'Unset variable "{name}": a used variable must be set or have a default; set '
                f"it with -var {name}=... or NOMAD_VAR_{name}, or give it a default"
            )
        values[name] = _convert(raw, type_name, span, name)
    for name in cli_vars:
        if name not in declared:
            hint = did_you_mean(name, declared)
            raise Span(source, 0, 0).error(
                f'undeclared variable "{name}" passed with -var{hint}; declare it in the job '
                f'file with variable "{name}" {{}}'
            )
    scope = _with_locals(body, values)
    _validate(body, scope)
    return scope


def _add(
    declared: dict[str, tuple[Span, str, Any]], name: str, span: Span, spec: tuple[str, Any]
) -> None:
    if name in declared:
        raise span.error(
            f'duplicate variable "{name}" (first declared on line {declared[name][0].line})'
        )
    declared[name] = (span, *spec)


def _declare_variable(
    plain: Evaluator,
    labels: list[str],
    body: Body,
    span: Span,
    declared: dict[str, tuple[Span, str, Any]],
) -> None:
    if len(labels) != 1 or not labels[0].isidentifier():
        raise span.error('"variable" block needs one name label, e.g. variable "image" { ... }')
    r = BlockReader(
        plain,
        body,
        f'variable "{labels[0]}"',
        span,
        attrs=("type", "default", "description", "sensitive", "nullable"),
        blocks=("validation",),
    )
    type_attr = r.attribute("type")
    type_name = _type_name(type_attr) if type_attr else "any"
    _add(declared, labels[0], span, (type_name, r.raw("default")))


def _type_name(attr: Attribute) -> str:
    """``string``/``number``/``bool``/``any``, or the collection kind of ``list(string)``."""
    text = attr.expr.span.source.text
    node = attr.expr.tree
    name = text[node.meta.start_pos : node.meta.end_pos].split("(", 1)[0].strip()
    if name not in _PRIMITIVES + _COLLECTIONS:
        raise attr.span.error(
            f"invalid variable type {name!r}; use string, number, bool, any, list(...), "
            "set(...), map(...), object({...}) or tuple([...])"
        )
    return name


def _from_text(text: str, type_name: str, span: Span, origin: str) -> Any:
    if type_name in ("string", "any", "number", "bool"):
        return text
    expr = parse_expression(text, span, f"the {origin} value")
    return Evaluator(Scope(), origin=span).eval(expr)


def _convert(value: Any, type_name: str, span: Span, name: str) -> Any:
    try:
        if type_name == "string":
            return to_string(value)
        if type_name == "number":
            number = to_float(value)
            return int(number) if number.is_integer() else number
        if type_name == "bool":
            return to_bool(value)
    except ConversionError as exc:
        raise span.error(f'invalid value for variable "{name}": {exc}') from None
    if type_name in ("list", "set", "tuple") and not isinstance(value, list):
        raise span.error(
            f'invalid value for variable "{name}": expected a list, got {describe(value)}'
        )
    if type_name in ("map", "object") and not isinstance(value, dict):
        raise span.error(
            f'invalid value for variable "{name}": expected a map, got {describe(value)}'
        )
    return value


def _with_locals(body: Body, values: dict[str, Any]) -> Scope:
    exprs: dict[str, Attribute] = {}
    for block in body.blocks:
        if block.type != "locals":
            continue
        if block.body.blocks:
            raise block.body.blocks[0].span.error('"locals" blocks take only arguments')
        for name, attr in block.body.attributes.items():
            if name in exprs:
                raise attr.span.error(
                    f'duplicate local "{name}" (first defined on line {exprs[name].span.line})'
                )
            exprs[name] = attr
    resolved: dict[str, Any] = {}
    in_progress: list[str] = []
    scope = Scope(variables=values, local_names=frozenset(exprs))

    def local(name: str, span: Span) -> Any:
        if name in resolved:
            return resolved[name]
        if name in in_progress:
            cycle = " -> ".join([*in_progress[in_progress.index(name) :], name])
            raise span.error(f"local values refer to each other in a cycle: {cycle}")
        in_progress.append(name)
        resolved[name] = Evaluator(scope).eval(exprs[name].expr)
        in_progress.pop()
        return resolved[name]

    scope.local = local
    for name, attr in exprs.items():
        local(name, attr.span)  # evaluate all now, so errors show even for unused locals
    return scope


def _validate(body: Body, scope: Scope) -> None:
    for block in body.blocks:
        if block.type != "variable":
            continue
        for check in (b for b in block.body.blocks if b.type == "validation"):
            ev = Evaluator(scope)
            r = BlockReader.of(
                ev,
                check,
                f'validation of variable "{block.labels[0]}"',
                attrs=("condition", "error_message"),
            )
            if not r.boolean("condition", True):
                message = r.string("error_message", "the value is not valid")
                raise check.span.error(f'invalid value for variable "{block.labels[0]}": {message}')
