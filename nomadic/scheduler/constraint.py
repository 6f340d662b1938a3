"""Constraint evaluation: resolving ``${...}`` targets on a node and applying an operator.

Shared by :class:`~nomadic.scheduler.feasible.ConstraintChecker` (hard constraints) and the
affinity scorer (soft ones). Semantics follow Nomad's ``checkConstraint``: equality needs both
sides to resolve, ``!=`` is true when only one side resolves, ordering compares integers,
then floats, then strings.
"""

from __future__ import annotations

import re
from typing import Final

from nomadic.structs import Constraint, Node

from .context import EvalContext
from .version import parse_constraint, parse_version

__all__ = [
    "CONSTRAINT_DISTINCT_HOSTS",
    "CONSTRAINT_DISTINCT_PROPERTY",
    "check_constraint",
    "constraint_string",
    "escapes_class",
    "resolve_target",
]

CONSTRAINT_DISTINCT_HOSTS: Final = "distinct_hosts"
CONSTRAINT_DISTINCT_PROPERTY: Final = "distinct_property"
CONSTRAINT_REGEX: Final = "regexp"
CONSTRAINT_VERSION: Final = "version"
CONSTRAINT_SEMVER: Final = "semver"
CONSTRAINT_SET_CONTAINS: Final = "set_contains"
CONSTRAINT_SET_CONTAINS_ALL: Final = "set_contains_all"
CONSTRAINT_SET_CONTAINS_ANY: Final = "set_contains_any"
CONSTRAINT_IS_SET: Final = "is_set"
CONSTRAINT_IS_NOT_SET: Final = "is_not_set"

_NODE_TARGETS: Final = {
    "${node.unique.id}": lambda n: n.id,
    "${node.unique.name}": lambda n: n.name,
    "${node.datacenter}": lambda n: n.datacenter,
    "${node.class}": lambda n: n.node_class,
    "${node.pool}": lambda n: n.node_pool,
}


def constraint_string(c: Constraint) -> str:
    """How Nomad names a constraint in ConstraintFiltered: ``${attr.kernel.name} = linux``."""
    return f"{c.l_target} {c.operand} {c.r_target}"


def resolve_target(target: str, node: Node) -> str | None:
    """The value ``target`` names on ``node``; a literal resolves to itself, unknown to None."""
    if not target.startswith("${"):
        return target
    getter = _NODE_TARGETS.get(target)
    if getter is not None:
        value: str = getter(node)
        return value
    if target.startswith("${attr.") and target.endswith("}"):
        return node.attributes.get(target[len("${attr.") : -1])
    if target.startswith("${meta.") and target.endswith("}"):
        return node.meta.get(target[len("${meta.") : -1])
    return None


def escapes_class(c: Constraint) -> bool:
    """Whether nodes of one computed class can disagree on ``c`` (it names a unique target)."""
    return any(
        t.startswith(("${node.unique.", "${attr.unique.", "${meta.unique."))
        for t in (c.l_target, c.r_target)
    )


def check_constraint(ctx: EvalContext, operand: str, lval: str | None, rval: str | None) -> bool:
    """Apply ``operand``; ``None`` means the side did not resolve on this node."""
    found = lval is not None and rval is not None
    if operand in (CONSTRAINT_DISTINCT_HOSTS, CONSTRAINT_DISTINCT_PROPERTY):
        return True  # checked by their own iterators
    if operand in ("=", "==", "is"):
        return found and lval == rval
    if operand in ("!=", "not"):
        return lval != rval
    if operand in ("<", "<=", ">", ">="):
        return found and _check_order(operand, lval or "", rval or "")
    if operand == CONSTRAINT_IS_SET:
        return lval is not None
    if operand == CONSTRAINT_IS_NOT_SET:
        return lval is None
    if not found:
        return False
    assert lval is not None and rval is not None
    return _check_value_operand(ctx, operand, lval, rval)


def _check_value_operand(ctx: EvalContext, operand: str, lval: str, rval: str) -> bool:
    if operand in (CONSTRAINT_VERSION, CONSTRAINT_SEMVER):
        return _check_version(lval, rval, semver=operand == CONSTRAINT_SEMVER)
    if operand == CONSTRAINT_REGEX:
        return _check_regexp(ctx, lval, rval)
    if operand in (CONSTRAINT_SET_CONTAINS, CONSTRAINT_SET_CONTAINS_ALL):
        have = _split_set(lval)
        return all(item in have for item in _split_set(rval))
    if operand == CONSTRAINT_SET_CONTAINS_ANY:
        have = _split_set(lval)
        return any(item in have for item in _split_set(rval))
    return False


def _check_order(op: str, lval: str, rval: str) -> bool:
    left: int | float | str
    right: int | float | str
    try:
        left, right = int(lval), int(rval)
    except ValueError:
        try:
            left, right = float(lval), float(rval)
        except ValueError:
            left, right = lval, rval
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def _check_version(lval: str, rval: str, *, semver: bool) -> bool:
    version = parse_version(lval)
    constraint = parse_constraint(rval, semver=semver)
    if version is None or constraint is None:
        return False
    return constraint.check(version)


def _check_regexp(ctx: EvalContext, lval: str, rval: str) -> bool:
    if rval not in ctx.regexp_cache:
        try:
            ctx.regexp_cache[rval] = re.compile(rval)
        except re.error:
            ctx.regexp_cache[rval] = None
    pattern = ctx.regexp_cache[rval]
    return pattern is not None and pattern.search(lval) is not None


def _split_set(value: str) -> set[str]:
    return {part.strip() for part in value.split(",")}
