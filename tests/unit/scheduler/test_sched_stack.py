"""The placement stack: filters with their reasons, port assignment, scores, limits."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.scheduler.context import EvalContext
from nomadic.scheduler.feasible import (
    FILTER_MISSING_DRIVERS,
    RandomIterator,
    ready_nodes_in_dcs_and_pool,
)
from nomadic.scheduler.rank import RankedNode
from nomadic.scheduler.select import LimitIterator, service_limit
from nomadic.scheduler.stack import GenericStack, SelectOptions
from nomadic.structs import (
    AllocatedPortMapping,
    Constraint,
    DriverInfo,
    Job,
    NetworkResource,
    NodeResources,
    Plan,
    Port,
)
from nomadic.testing.factories import mock_alloc, mock_job, mock_node
from nomadic.testing.harness import InMemoryState


def _stack(
    state: InMemoryState, job: Job, *, batch: bool = False
) -> tuple[GenericStack, EvalContext]:
    ctx = EvalContext(state, Plan(job=job), "eval-1")
    stack = GenericStack(batch, ctx)
    nodes, _ = ready_nodes_in_dcs_and_pool(state, job.datacenters, job.node_pool)
    stack.set_nodes(nodes)
    stack.set_job(job)
    return stack, ctx


def _state(*nodes) -> InMemoryState:
    state = InMemoryState()
    for node in nodes:
        state.upsert_node(node)
    return state


def test_missing_driver_is_filtered_with_reason() -> None:
    node = mock_node(drivers={}, attributes={"kernel.name": "linux"})
    job = mock_job()
    stack, ctx = _stack(_state(node), job)
    assert stack.select(job.task_groups[0]) is None
    assert ctx.metrics.nodes_evaluated == 1
    assert ctx.metrics.nodes_filtered == 1
    assert ctx.metrics.constraint_filtered == {FILTER_MISSING_DRIVERS: 1}


@pytest.mark.parametrize(
    ("drivers", "attributes", "ok"),
    [
        pytest.param({"raw_exec": DriverInfo(detected=True, healthy=True)}, {}, True, id="healthy"),
        pytest.param(
            {"raw_exec": DriverInfo(detected=True, healthy=False)}, {}, False, id="unhealthy"
        ),
        pytest.param(
            {"raw_exec": DriverInfo(detected=False, healthy=True)}, {}, False, id="undetected"
        ),
        pytest.param({}, {"driver.raw_exec": "1"}, True, id="attribute-fallback"),
        pytest.param({}, {"driver.raw_exec": "0"}, False, id="attribute-off"),
    ],
)
def test_driver_checker(drivers, attributes, ok: bool) -> None:
    node = mock_node(drivers=drivers, attributes={"kernel.name": "linux", **attributes})
    job = mock_job()
    stack, _ = _stack(_state(node), job)
    assert (stack.select(job.task_groups[0]) is not None) is ok


def test_constraint_filter_is_keyed_by_constraint_string() -> None:
    nodes = [
        mock_node(attributes={"kernel.name": "windows", "driver.raw_exec": "1"}) for _ in range(3)
    ]
    job = mock_job()
    stack, ctx = _stack(_state(*nodes), job)
    assert stack.select(job.task_groups[0]) is None
    # the first node is checked, the other two share its computed class
    assert ctx.metrics.constraint_filtered == {
        "${attr.kernel.name} = linux": 1,
        "computed class ineligible": 2,
    }
    assert ctx.eligibility.get_classes() == {nodes[0].computed_class: False}


def test_group_and_task_constraints_apply() -> None:
    job = mock_job()
    job.task_groups[0].tasks[0].constraints = [
        Constraint(l_target="${meta.rack}", r_target="r2", operand="=")
    ]
    r1, r2 = mock_node(meta={"rack": "r1"}), mock_node(meta={"rack": "r2"})
    stack, _ = _stack(_state(r1, r2), job)
    for _ in range(3):
        option = stack.select(job.task_groups[0])
        assert option is not None and option.node.id == r2.id


@pytest.mark.parametrize(
    ("datacenters", "pool", "expected"),
    [
        pytest.param(["dc1"], "default", {"dc1"}, id="exact"),
        pytest.param(["*"], "default", {"dc1", "dc2", "east-1"}, id="star"),
        pytest.param(["dc*"], "default", {"dc1", "dc2"}, id="glob"),
        pytest.param(["*"], "gpu", {"east-2"}, id="pool"),
        pytest.param(["*"], "all", {"dc1", "dc2", "east-1", "east-2"}, id="pool-all"),
    ],
)
def test_ready_nodes_in_dcs_and_pool(datacenters, pool, expected) -> None:
    state = _state(
        mock_node(datacenter="dc1"),
        mock_node(datacenter="dc2"),
        mock_node(datacenter="east-1"),
        mock_node(datacenter="east-2", node_pool="gpu"),
        mock_node(datacenter="dc1", status="down"),
        mock_node(datacenter="dc1", scheduling_eligibility="ineligible"),
        mock_node(datacenter="dc1", drain=True),
    )
    nodes, by_dc = ready_nodes_in_dcs_and_pool(state, datacenters, pool)
    assert {n.datacenter for n in nodes} == expected
    assert sum(by_dc.values()) == len(nodes)


def test_random_iterator_is_deterministic_per_eval() -> None:
    nodes = [mock_node() for _ in range(20)]

    def order(eval_id: str) -> list[str]:
        ctx = EvalContext(InMemoryState(), Plan(), eval_id)
        it = RandomIterator(ctx, [])
        it.set_nodes(nodes)
        return [n.id for n in iter(it.next, None)]

    assert order("a") == order("a")
    assert order("a") != order("b")
    assert sorted(order("a")) == sorted(n.id for n in nodes)


def test_distinct_hosts_spreads_over_nodes() -> None:
    nodes = [mock_node() for _ in range(3)]
    job = mock_job(constraints=[Constraint(operand="distinct_hosts", r_target="true")])
    state = _state(*nodes)
    stack, ctx = _stack(state, job)
    tg = job.task_groups[0]
    used = set()
    for i in range(3):
        option = stack.select(tg)
        assert option is not None and option.node.id not in used
        used.add(option.node.id)
        ctx.plan.append_alloc(mock_alloc(job, option.node, index=i))
    assert stack.select(tg) is None
    assert ctx.metrics.constraint_filtered == {"distinct_hosts": 3}


def test_distinct_property_limits_allocs_per_value() -> None:
    nodes = [mock_node(meta={"rack": r}) for r in ("r1", "r1", "r2")]
    job = mock_job()
    job.task_groups[0].constraints = [
        Constraint(l_target="${meta.rack}", operand="distinct_property", r_target="1")
    ]
    state = _state(*nodes)
    stack, ctx = _stack(state, job)
    tg = job.task_groups[0]
    racks = []
    for i in range(2):
        option = stack.select(tg)
        assert option is not None
        racks.append(option.node.meta["rack"])
        ctx.plan.append_alloc(mock_alloc(job, option.node, index=i))
    assert sorted(racks) == ["r1", "r2"]
    assert stack.select(tg) is None


# --- ports ---


def _port_job(reserved: list[int], dynamic: int) -> Job:
    job = mock_job()
    job.task_groups[0].networks = [
        NetworkResource(
            reserved_ports=[Port(label=f"s{p}", value=p) for p in reserved],
            dynamic_ports=[Port(label=f"d{i}", to=-1 if i == 0 else 0) for i in range(dynamic)],
        )
    ]
    return job


def test_static_and_dynamic_ports_are_assigned() -> None:
    node = mock_node()
    job = _port_job([8080], 2)
    stack, _ = _stack(_state(node), job)
    option = stack.select(job.task_groups[0])
    assert option is not None and option.alloc_resources is not None
    ports = {p.label: p for p in option.alloc_resources.ports}
    assert ports["s8080"].value == 8080
    for label in ("d0", "d1"):
        assert 20000 <= ports[label].value <= 32000
        assert ports[label].host_ip == "192.168.0.100"
    assert ports["d0"].to == ports["d0"].value  # to = -1 maps to the same port
    assert ports["d0"].value != ports["d1"].value


def test_dynamic_ports_avoid_ports_in_use() -> None:
    node = mock_node()
    node.node_resources = NodeResources(
        cpu=node.node_resources.cpu,
        memory=node.node_resources.memory,
        disk=node.node_resources.disk,
        min_dynamic_port=20000,
        max_dynamic_port=20003,
    )
    job = _port_job([], 2)
    other = mock_alloc(mock_job(), node)
    other.allocated_resources.shared.ports = [
        AllocatedPortMapping(label="x", value=20000),
        AllocatedPortMapping(label="y", value=20001),
    ]
    state = _state(node)
    state.upsert_allocs([other])
    stack, ctx = _stack(state, job)
    option = stack.select(job.task_groups[0])
    assert option is not None and option.alloc_resources is not None
    assert sorted(p.value for p in option.alloc_resources.ports) == [20002, 20003]
    # the plan now holds those: the next placement on this node has no ports left
    ctx.plan.append_alloc(
        msgspec.structs.replace(
            mock_alloc(job, node, index=1),
            allocated_resources=msgspec.structs.replace(
                mock_alloc(job, node).allocated_resources,
                shared=option.alloc_resources,
            ),
        )
    )
    assert stack.select(job.task_groups[0]) is None
    assert ctx.metrics.dimension_exhausted == {"network: dynamic port selection failed": 1}


def test_reserved_port_collision_is_reported() -> None:
    node = mock_node()
    other = mock_alloc(mock_job(), node)
    other.allocated_resources.shared.ports = [AllocatedPortMapping(label="x", value=8080)]
    state = _state(node)
    state.upsert_allocs([other])
    job = _port_job([8080], 0)
    stack, ctx = _stack(state, job)
    assert stack.select(job.task_groups[0]) is None
    assert ctx.metrics.dimension_exhausted == {"network: reserved port collision s8080=8080": 1}


def test_existing_port_collision_marks_node_exhausted() -> None:
    node = mock_node()
    a, b = mock_alloc(mock_job(), node), mock_alloc(mock_job(), node)
    for alloc in (a, b):
        alloc.allocated_resources.shared.ports = [AllocatedPortMapping(label="x", value=9000)]
    state = _state(node)
    state.upsert_allocs([a, b])
    job = mock_job()
    stack, ctx = _stack(state, job)
    assert stack.select(job.task_groups[0]) is None
    assert ctx.metrics.dimension_exhausted == {"network: port collision": 1}


# --- scores ---


def test_binpack_score_is_normalised_and_prefers_fuller_node() -> None:
    empty, busy = mock_node(), mock_node()
    job = mock_job()
    filler = mock_alloc(mock_job(), busy)
    filler.allocated_resources.tasks["web"].cpu.cpu_shares = 2000
    filler.allocated_resources.tasks["web"].memory.memory_mb = 4096
    state = _state(empty, busy)
    state.upsert_allocs([filler])
    stack, ctx = _stack(state, job)
    option = stack.select(job.task_groups[0])
    assert option is not None and option.node.id == busy.id
    # util = 2500 MHz of 4000, 4352 MB of 8192
    expected = (20 - (10 ** (1 - 2500 / 4000) + 10 ** (1 - 4352 / 8192))) / 18
    assert option.scores[0] == pytest.approx(expected)
    assert option.final_score == pytest.approx(expected)
    ctx.populate_score_meta_data()
    meta = {m.node_id: m for m in ctx.metrics.score_meta_data}
    assert meta[busy.id].scores["binpack"] == pytest.approx(expected)


def test_job_anti_affinity_and_reschedule_penalty() -> None:
    node = mock_node()
    job = mock_job()
    state = _state(node)
    state.upsert_allocs([mock_alloc(job, node, index=i) for i in range(2)])
    stack, _ = _stack(state, job)
    option = stack.select(job.task_groups[0], SelectOptions(penalty_node_ids={node.id}))
    assert option is not None
    binpack, anti, penalty = option.scores
    assert anti == pytest.approx(-(2 + 1) / 10)
    assert penalty == -1.0
    assert option.final_score == pytest.approx((binpack + anti + penalty) / 3)


def test_node_affinity_steers_placement() -> None:
    from nomadic.structs import Affinity

    nodes = [mock_node(meta={"rack": r}) for r in ("r1", "r2", "r3", "r4")]
    job = mock_job(affinities=[Affinity(l_target="${meta.rack}", r_target="r3", weight=100)])
    stack, _ = _stack(_state(*nodes), job)
    option = stack.select(job.task_groups[0])
    assert option is not None and option.node.meta["rack"] == "r3"


# --- limit ---


@pytest.mark.parametrize(
    ("n", "limit"),
    [(0, 2), (1, 2), (3, 2), (4, 2), (5, 3), (100, 7), (1000, 10), (10000, 14)],
)
def test_service_limit(n: int, limit: int) -> None:
    assert service_limit(n) == limit


@pytest.mark.parametrize(
    ("batch", "nodes", "limit"), [(True, 100, 2), (False, 100, 7), (False, 3, 2)]
)
def test_stack_limit_by_job_type(batch: bool, nodes: int, limit: int) -> None:
    state = _state(*[mock_node() for _ in range(nodes)])
    job = mock_job()
    stack, ctx = _stack(state, job, batch=batch)
    assert stack.select(job.task_groups[0]) is not None
    assert ctx.metrics.nodes_evaluated == limit


class _ListSource:
    def __init__(self, scores: list[float]) -> None:
        self.options = [RankedNode(node=mock_node(), final_score=s) for s in scores]
        self.i = 0

    def next(self) -> RankedNode | None:
        if self.i >= len(self.options):
            return None
        self.i += 1
        return self.options[self.i - 1]

    def reset(self) -> None:
        self.i = 0


@pytest.mark.parametrize(
    ("scores", "limit", "expected"),
    [
        pytest.param([0.5, 0.4, 0.3], 2, [0.5, 0.4], id="plain"),
        pytest.param([-1, 0.5, 0.4], 2, [0.5, 0.4], id="skips-penalised"),
        pytest.param([-1, -1, -1, -1, 0.2], 2, [-1, 0.2], id="skips-at-most-three"),
        pytest.param([-1, -0.5], 2, [-1, -0.5], id="falls-back-to-skipped"),
    ],
)
def test_limit_iterator_skips_low_scores(scores, limit, expected) -> None:
    ctx = EvalContext(InMemoryState(), Plan(), "e")
    it = LimitIterator(ctx, _ListSource(scores), limit)
    got = [o.final_score for o in iter(it.next, None)]
    assert got == expected


# --- spread ---


def _spread_job(targets: list[tuple[str, int]], count: int) -> Job:
    from nomadic.structs import Spread, SpreadTarget

    base = mock_job()
    tg = msgspec.structs.replace(
        base.task_groups[0],
        count=count,
        spreads=[
            Spread(
                attribute="${node.datacenter}",
                weight=100,
                spread_target=[SpreadTarget(value=v, percent=p) for v, p in targets],
            )
        ],
    )
    return msgspec.structs.replace(base, datacenters=["*"], task_groups=[tg])


@pytest.mark.parametrize(
    ("targets", "count", "expected"),
    [
        pytest.param([("dc1", 50), ("dc2", 50)], 4, {"dc1": 2, "dc2": 2}, id="half-half"),
        pytest.param([("dc1", 75)], 4, {"dc1": 3, "dc2": 1}, id="implicit-rest"),
        pytest.param([], 4, {"dc1": 2, "dc2": 2}, id="even"),
    ],
)
def test_spread_follows_targets(targets, count: int, expected: dict[str, int]) -> None:
    nodes = [mock_node(datacenter=dc) for dc in ("dc1", "dc1", "dc1", "dc2", "dc2", "dc2")]
    job = _spread_job(targets, count)
    stack, ctx = _stack(_state(*nodes), job)
    tg = job.task_groups[0]
    got: dict[str, int] = {}
    for i in range(count):
        option = stack.select(tg)
        assert option is not None
        got[option.node.datacenter] = got.get(option.node.datacenter, 0) + 1
        ctx.plan.append_alloc(mock_alloc(job, option.node, index=i))
    assert got == expected


def test_spread_scores_missing_attribute_minus_one() -> None:
    from nomadic.scheduler.spread import even_spread_score_boost

    assert even_spread_score_boost({}, "dc1") == 0.0
    assert even_spread_score_boost({"dc1": 1}, None) == -1.0
    assert even_spread_score_boost({"dc1": 1, "dc2": 1}, "dc1") == -1.0
    assert even_spread_score_boost({"dc1": 2, "dc2": 1}, "dc2") == 1.0
    assert even_spread_score_boost({"dc1": 2, "dc2": 1}, "dc1") == -1.0
