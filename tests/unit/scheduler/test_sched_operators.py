"""Every constraint operator on ``${node.*}``, ``${attr.*}`` and ``${meta.*}``, end to end
through the Harness, and the exact affinity and spread score formulas."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.structs import Affinity, Constraint, Job, Spread, SpreadTarget
from nomadic.testing.factories import mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NODES = {
    "n1": dict(
        node_class="small",
        attrs={"os.version": "20.04", "nomad.version": "1.9.0"},
        meta={"rack": "r1", "tags": "a,b,c"},
    ),
    "n2": dict(
        node_class="big",
        attrs={"os.version": "22.04", "nomad.version": "1.10.2"},
        meta={"rack": "r2", "tags": "b"},
    ),
    "n3": dict(
        node_class="big",
        attrs={"os.version": "10", "nomad.version": "1.2.0", "kernel.name": "windows"},
        meta={"tags": "c,d"},
    ),
}


def _cluster() -> tuple[Harness, dict[str, str]]:
    h = Harness()
    names = {}
    for name, spec in NODES.items():
        base = mock_node(name=name)
        attrs = {**base.attributes, **spec["attrs"]}  # type: ignore[dict-item]
        node = mock_node(
            name=name, node_class=spec["node_class"], attributes=attrs, meta=spec["meta"]
        )
        h.state.upsert_node(node)
        names[node.id] = name
    return h, names


def _job(constraints: list[Constraint], count: int, **kw: object) -> Job:
    job = mock_job(constraints=constraints, **kw)
    tg = msgspec.structs.replace(job.task_groups[0], count=count, networks=[])
    return msgspec.structs.replace(job, task_groups=[tg])


CASES = [
    ("${node.class}", "=", "big", {"n2", "n3"}),
    ("${node.class}", "==", "small", {"n1"}),
    ("${node.unique.name}", "!=", "n1", {"n2", "n3"}),
    ("${node.datacenter}", "is", "dc1", {"n1", "n2", "n3"}),
    ("${attr.kernel.name}", "not", "linux", {"n3"}),
    ("${attr.os.version}", "<", "21", {"n1", "n3"}),
    ("${attr.os.version}", "<=", "10", {"n3"}),
    ("${attr.os.version}", ">", "10", {"n1", "n2"}),
    ("${attr.os.version}", ">=", "22.04", {"n2"}),
    ("${attr.nomad.version}", "version", ">= 1.9.0", {"n1", "n2"}),
    ("${attr.nomad.version}", "semver", "< 1.10.0", {"n1", "n3"}),
    ("${meta.rack}", "regexp", "^r[12]$", {"n1", "n2"}),
    ("${meta.tags}", "set_contains", "b,c", {"n1"}),
    ("${meta.tags}", "set_contains_all", "c", {"n1", "n3"}),
    ("${meta.tags}", "set_contains_any", "a,d", {"n1", "n3"}),
    ("${meta.rack}", "is_set", "", {"n1", "n2"}),
    ("${meta.rack}", "is_not_set", "", {"n3"}),
    ("${attr.kernel.name}", "=", "plan9", set()),
]


@pytest.mark.parametrize(
    ("ltarget", "operand", "rtarget", "expected"),
    CASES,
    ids=[f"{op}-{lt}-{rt}" for lt, op, rt, _ in CASES],
)
def test_constraint_operator_places_only_on_matching_nodes(
    ltarget: str, operand: str, rtarget: str, expected: set[str]
) -> None:
    h, names = _cluster()
    rule = Constraint(l_target=ltarget, r_target=rtarget, operand=operand)
    # distinct_hosts + count = number of matching nodes: every matching node gets one
    job = h.state.upsert_job(
        _job([rule, Constraint(operand="distinct_hosts", r_target="true")], len(expected) or 1)
    )
    h.process(mock_eval(job))
    placed = {
        names[a.node_id] for p in h.plans for allocs in p.node_allocation.values() for a in allocs
    }
    assert placed == expected
    final = h.evals[-1]
    if expected:
        assert final.failed_tg_allocs == {}
        return
    metrics = final.failed_tg_allocs["web"]
    text = f"{ltarget} {operand} {rtarget}".strip()
    assert metrics.constraint_filtered == {text: 3}
    assert metrics.nodes_filtered == 3
    assert h.create_evals and h.create_evals[0].status == "blocked"


def test_distinct_hosts_fails_the_allocation_that_has_no_host_left() -> None:
    h, _ = _cluster()
    job = h.state.upsert_job(_job([Constraint(operand="distinct_hosts", r_target="true")], 4))
    h.process(mock_eval(job))
    assert sum(len(v) for v in h.plans[0].node_allocation.values()) == 3
    assert "web" in h.evals[-1].failed_tg_allocs


def test_distinct_property_caps_allocations_per_value() -> None:
    h, names = _cluster()
    rule = Constraint(operand="distinct_property", l_target="${node.class}", r_target="1")
    job = h.state.upsert_job(_job([rule], 3))
    h.process(mock_eval(job))
    placed = [names[a.node_id] for allocs in h.plans[0].node_allocation.values() for a in allocs]
    assert len(placed) == 2 and "n1" in placed
    failed = h.evals[-1].failed_tg_allocs["web"]
    assert failed.constraint_filtered  # the reason names the distinct_property constraint


def test_affinity_score_is_the_weight_share_of_matching_affinities() -> None:
    h, names = _cluster()
    affinities = [
        Affinity(l_target="${node.class}", r_target="big", operand="=", weight=60),
        Affinity(l_target="${meta.rack}", r_target="r2", operand="=", weight=-20),
    ]
    job = h.state.upsert_job(_job([], 1, affinities=affinities))
    h.process(mock_eval(job))
    (alloc,) = [a for allocs in h.plans[0].node_allocation.values() for a in allocs]
    assert names[alloc.node_id] == "n3"  # big without the penalised rack
    assert alloc.metrics is not None
    scores = {names[m.node_id]: m.scores for m in alloc.metrics.score_meta_data}
    assert scores["n3"]["node-affinity"] == pytest.approx(60 / 80)
    assert scores["n2"]["node-affinity"] == pytest.approx((60 - 20) / 80)
    assert "node-affinity" not in scores.get("n1", {})  # no match: no score appended


def test_spread_targets_share_the_count_by_percent() -> None:
    h, names = _cluster()
    spread = Spread(
        attribute="${node.class}",
        weight=100,
        spread_target=[
            SpreadTarget(value="small", percent=75),
            SpreadTarget(value="big", percent=25),
        ],
    )
    job = h.state.upsert_job(_job([], 4, spreads=[spread]))
    h.process(mock_eval(job))
    allocs = [a for allocs in h.plans[0].node_allocation.values() for a in allocs]
    classes = sorted(NODES[names[a.node_id]]["node_class"] for a in allocs)  # type: ignore[misc]
    assert classes == ["big", "small", "small", "small"]
