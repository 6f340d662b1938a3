"""``constraint``, ``affinity`` and ``spread`` blocks, with Nomad's shorthand attributes.

Shorthands set the operator for you (jobspec2 ``decodeConstraint``): ``version = ">= 1.2"``
is ``operator = "version"`` with that value, ``distinct_hosts = true`` is the operator
``distinct_hosts``, ``distinct_property = "${meta.rack}"`` puts the property in the left
target. The default operator is ``=``.
"""

from __future__ import annotations

from nomadic.structs import Affinity, Constraint, Spread, SpreadTarget

from .expressions import Evaluator
from .reader import BlockReader
from .syntax import Body

__all__ = ["decode_affinities", "decode_constraints", "decode_spreads"]

# Shorthand attributes that name the operator and carry the right-hand value.
_VALUE_SHORTHANDS = (
    "version",
    "semver",
    "regexp",
    "set_contains",
    "set_contains_any",
    "set_contains_all",
)
_CONSTRAINT_ATTRS = (
    "attribute",
    "operator",
    "value",
    "distinct_hosts",
    "distinct_property",
    *_VALUE_SHORTHANDS,
)


def _operator_and_value(r: BlockReader) -> tuple[str, str]:
    operand, value = r.string("operator", "="), r.string("value")
    for shorthand in _VALUE_SHORTHANDS:
        if r.has(shorthand):
            operand, value = shorthand, r.string(shorthand)
    return operand, value


def decode_constraints(ev: Evaluator, body: Body, where: str) -> list[Constraint]:
    result = []
    for block in body.blocks:
        if block.type != "constraint":
            continue
        r = BlockReader.of(ev, block, f"constraint in {where}", attrs=_CONSTRAINT_ATTRS)
        r.no_labels(block)
        operand, value = _operator_and_value(r)
        l_target = r.string("attribute")
        if r.boolean("distinct_hosts"):
            operand = "distinct_hosts"
        if r.has("distinct_property"):
            operand, l_target = "distinct_property", r.string("distinct_property")
        result.append(Constraint(l_target=l_target, r_target=value, operand=operand))
    return result


def decode_affinities(ev: Evaluator, body: Body, where: str) -> list[Affinity]:
    result = []
    for block in body.blocks:
        if block.type != "affinity":
            continue
        r = BlockReader.of(
            ev,
            block,
            f"affinity in {where}",
            attrs=("attribute", "operator", "value", "weight", *_VALUE_SHORTHANDS),
        )
        r.no_labels(block)
        operand, value = _operator_and_value(r)
        weight = r.integer("weight", 50)
        if weight == 0 or not -100 <= weight <= 100:
            raise r.fail(
                "weight", f"affinity weight {weight} in {where} must be in -100..100 and not 0"
            )
        result.append(
            Affinity(l_target=r.string("attribute"), r_target=value, operand=operand, weight=weight)
        )
    return result


def decode_spreads(ev: Evaluator, body: Body, where: str) -> list[Spread]:
    result = []
    for block in body.blocks:
        if block.type != "spread":
            continue
        r = BlockReader.of(
            ev, block, f"spread in {where}", attrs=("attribute", "weight"), blocks=("target",)
        )
        r.no_labels(block)
        targets = []
        for target_block, value in r.labelled("target"):
            t = BlockReader.of(ev, target_block, f'target "{value}" in spread', attrs=("percent",))
            targets.append(SpreadTarget(value=value, percent=t.integer("percent")))
        result.append(
            Spread(
                attribute=r.string("attribute"),
                weight=r.integer("weight", 50),
                spread_target=targets,
            )
        )
    return result
