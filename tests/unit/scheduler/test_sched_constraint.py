"""Every constraint operator and target, true and false (scheduler/constraint.py, version.py)."""

from __future__ import annotations

import pytest

from nomadic.scheduler.constraint import check_constraint, constraint_string, resolve_target
from nomadic.scheduler.context import EvalContext
from nomadic.structs import Constraint, Plan
from nomadic.testing.factories import mock_node
from nomadic.testing.harness import InMemoryState

NODE = mock_node(
    id="11111111-2222-3333-4444-555555555555",
    name="web-01",
    datacenter="dc2",
    node_class="large",
    node_pool="prod",
    meta={"rack": "r1", "tags": "a, b,c"},
)
NODE.attributes.update({"cpu.numcores": "8", "cpu.frequency": "2.5", "nomad.version": "1.7.3"})
NODE.attributes["driver.docker.version"] = "1.8.0-beta.2"


def _check(operand: str, ltarget: str, rtarget: str) -> bool:
    ctx = EvalContext(InMemoryState(), Plan(), "eval-1")
    return check_constraint(
        ctx, operand, resolve_target(ltarget, NODE), resolve_target(rtarget, NODE)
    )


CASES = [
    # equality
    ("=", "${attr.kernel.name}", "linux", True),
    ("=", "${attr.kernel.name}", "windows", False),
    ("==", "${node.datacenter}", "dc2", True),
    ("is", "${node.class}", "small", False),
    ("=", "${attr.missing}", "linux", False),
    ("!=", "${attr.kernel.name}", "windows", True),
    ("!=", "${attr.kernel.name}", "linux", False),
    ("not", "${attr.missing}", "linux", True),
    ("not", "${node.pool}", "prod", False),
    # ordering: integers, floats, then strings
    ("<", "${attr.cpu.numcores}", "10", True),
    ("<", "${attr.cpu.numcores}", "8", False),
    ("<=", "${attr.cpu.numcores}", "8", True),
    (">", "${attr.cpu.frequency}", "2.25", True),
    (">", "${attr.cpu.frequency}", "3", False),
    (">=", "${node.unique.name}", "web-01", True),
    (">=", "${node.unique.name}", "x", False),
    ("<", "${attr.missing}", "10", False),
    # regexp
    ("regexp", "${attr.kernel.name}", "^lin", True),
    ("regexp", "${attr.kernel.name}", "^win", False),
    ("regexp", "${attr.kernel.name}", "([", False),
    # version (go-version) and semver
    ("version", "${attr.nomad.version}", ">= 1.7, < 2.0", True),
    ("version", "${attr.nomad.version}", "> 1.7.3", False),
    ("version", "${attr.nomad.version}", "~> 1.7.0", True),
    ("version", "${attr.nomad.version}", "~> 1.6.0", False),
    ("version", "${attr.nomad.version}", "~> 1.6", True),
    ("version", "${attr.nomad.version}", "!= 1.7.3", False),
    ("version", "${attr.driver.docker.version}", ">= 1.7", False),
    ("version", "${attr.driver.docker.version}", ">= 1.8.0-beta.1", True),
    ("version", "${attr.kernel.name}", ">= 1.0", False),
    ("semver", "${attr.driver.docker.version}", ">= 1.7", True),
    ("semver", "${attr.driver.docker.version}", ">= 1.8.0", False),
    ("semver", "${attr.nomad.version}", "= 1.7.3", True),
    ("semver", "${attr.nomad.version}", "~> 1.7", False),
    # sets
    ("set_contains", "${meta.tags}", "a,c", True),
    ("set_contains", "${meta.tags}", "a,d", False),
    ("set_contains_all", "${meta.tags}", "b", True),
    ("set_contains_all", "${meta.tags}", "z", False),
    ("set_contains_any", "${meta.tags}", "z, c", True),
    ("set_contains_any", "${meta.tags}", "x,y", False),
    # presence
    ("is_set", "${meta.rack}", "", True),
    ("is_set", "${meta.zone}", "", False),
    ("is_not_set", "${meta.zone}", "", True),
    ("is_not_set", "${meta.rack}", "", False),
    # placement operators are left to their own iterators
    ("distinct_hosts", "", "true", True),
    ("distinct_property", "${meta.rack}", "1", True),
    # unknown operator
    ("near", "${attr.kernel.name}", "linux", False),
]


@pytest.mark.parametrize(
    ("operand", "ltarget", "rtarget", "expected"),
    CASES,
    ids=[f"{op}-{r or 'none'}-{exp}" for op, _, r, exp in CASES],
)
def test_operator(operand: str, ltarget: str, rtarget: str, expected: bool) -> None:
    assert _check(operand, ltarget, rtarget) is expected


@pytest.mark.parametrize(
    ("target", "value"),
    [
        ("${node.unique.id}", "11111111-2222-3333-4444-555555555555"),
        ("${node.unique.name}", "web-01"),
        ("${node.datacenter}", "dc2"),
        ("${node.class}", "large"),
        ("${node.pool}", "prod"),
        ("${attr.kernel.name}", "linux"),
        ("${meta.rack}", "r1"),
        ("literal", "literal"),
        ("${attr.nope}", None),
        ("${node.nope}", None),
    ],
    ids=lambda v: str(v),
)
def test_resolve_target(target: str, value: str | None) -> None:
    assert resolve_target(target, NODE) == value


def test_constraint_string_matches_nomad() -> None:
    c = Constraint(l_target="${attr.kernel.name}", r_target="linux", operand="=")
    assert constraint_string(c) == "${attr.kernel.name} = linux"
