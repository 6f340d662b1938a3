"""Feasibility: which nodes could run the task group at all (filters, before any scoring).

    ready_nodes_in_dcs_and_pool -> RandomIterator -> FeasibilityWrapper(job checks, group
    checks) -> DistinctHostsIterator -> DistinctPropertyIterator -> (ranking, see rank.py)

Every filter records why it rejected a node through ``ctx.filter_node(node, reason)``; the
reason strings below are what ``nomad job status`` shows under "Constraint ... filtered".
"""

from __future__ import annotations

import fnmatch
from typing import Final, Protocol

from nomadic.structs import Allocation, Constraint, Job, Node, TaskGroup
from nomadic.structs.consts import NODE_ELIGIBLE, NODE_STATUS_READY

from .constraint import (
    CONSTRAINT_DISTINCT_HOSTS,
    CONSTRAINT_DISTINCT_PROPERTY,
    check_constraint,
    constraint_string,
    resolve_target,
)
from .context import EvalContext
from .interfaces import State

__all__ = [
    "FILTER_CLASS_INELIGIBLE",
    "FILTER_DISTINCT_HOSTS",
    "FILTER_MISSING_DRIVERS",
    "ConstraintChecker",
    "DistinctHostsIterator",
    "DistinctPropertyIterator",
    "DriverChecker",
    "FeasibilityChecker",
    "FeasibilityWrapper",
    "FeasibleIterator",
    "RandomIterator",
    "StaticIterator",
    "ready_nodes_in_dcs_and_pool",
]

# Reasons recorded in AllocMetric.ConstraintFiltered (Nomad's words).
FILTER_MISSING_DRIVERS: Final = "missing drivers"
FILTER_CLASS_INELIGIBLE: Final = "computed class ineligible"
FILTER_DISTINCT_HOSTS: Final = CONSTRAINT_DISTINCT_HOSTS
NODE_POOL_ALL: Final = "all"


class FeasibleIterator(Protocol):
    def next(self) -> Node | None: ...
    def reset(self) -> None: ...


class FeasibilityChecker(Protocol):
    def feasible(self, node: Node) -> bool: ...


def ready_nodes_in_dcs_and_pool(
    state: State, datacenters: list[str], pool: str
) -> tuple[list[Node], dict[str, int]]:
    """Ready, eligible, undrained nodes in the job's datacenters (globs) and node pool.

    Returns the nodes and how many there are per datacenter (AllocMetric.NodesAvailable).
    """
    nodes: list[Node] = []
    by_dc: dict[str, int] = {}
    literal = {dc for dc in datacenters if not any(ch in dc for ch in "*?[")}
    globs = [dc for dc in datacenters if dc not in literal]
    for node in state.nodes():
        if node.status != NODE_STATUS_READY or node.drain:
            continue
        if node.scheduling_eligibility != NODE_ELIGIBLE:
            continue
        if node.datacenter not in literal and not any(
            fnmatch.fnmatchcase(node.datacenter, dc) for dc in globs
        ):
            continue
        if pool != NODE_POOL_ALL and node.node_pool != pool:
            continue
        nodes.append(node)
        by_dc[node.datacenter] = by_dc.get(node.datacenter, 0) + 1
    return nodes, by_dc


class StaticIterator:
    """Yields the nodes in order. ``reset`` does not rewind: the next placement continues
    where the last stopped (wrapping around), so consecutive placements look at new nodes."""

    def __init__(self, ctx: EvalContext, nodes: list[Node]) -> None:
        self.ctx = ctx
        self.nodes = nodes
        self.offset = 0
        self.seen = 0

    def next(self) -> Node | None:
        n = len(self.nodes)
        if self.offset == n or self.seen == n:
            if self.seen == n:
                return None
            self.offset = 0
        node = self.nodes[self.offset]
        self.offset += 1
        self.seen += 1
        self.ctx.evaluate_node()
        return node

    def reset(self) -> None:
        self.seen = 0

    def set_nodes(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.offset = 0
        self.seen = 0


class RandomIterator(StaticIterator):
    """A StaticIterator over a Fisher-Yates shuffle seeded from the eval (deterministic)."""

    def set_nodes(self, nodes: list[Node]) -> None:
        shuffled = list(nodes)
        self.ctx.rng.shuffle(shuffled)
        super().set_nodes(shuffled)


class DriverChecker:
    """The node must have every driver the group's tasks use, detected and healthy."""

    def __init__(self, ctx: EvalContext, drivers: set[str] | None = None) -> None:
        self.ctx = ctx
        self.drivers = drivers or set()

    def set_drivers(self, drivers: set[str]) -> None:
        self.drivers = drivers

    def feasible(self, node: Node) -> bool:
        if all(self._has_driver(node, d) for d in self.drivers):
            return True
        self.ctx.filter_node(node, FILTER_MISSING_DRIVERS)
        return False

    @staticmethod
    def _has_driver(node: Node, name: str) -> bool:
        info = node.drivers.get(name)
        if info is not None:
            return info.detected and info.healthy
        value = node.attributes.get(f"driver.{name}")
        return value is not None and value.lower() in ("1", "true", "t")


class ConstraintChecker:
    """Every constraint must hold on the node; a failure is recorded under its string form."""

    def __init__(self, ctx: EvalContext, constraints: list[Constraint] | None = None) -> None:
        self.ctx = ctx
        self.constraints = constraints or []

    def set_constraints(self, constraints: list[Constraint]) -> None:
        self.constraints = constraints

    def feasible(self, node: Node) -> bool:
        for c in self.constraints:
            lval = resolve_target(c.l_target, node)
            rval = resolve_target(c.r_target, node)
            if not check_constraint(self.ctx, c.operand, lval, rval):
                self.ctx.filter_node(node, constraint_string(c))
                return False
        return True


class FeasibilityWrapper:
    """Runs the job checkers, then the group checkers, caching verdicts per computed class.

    A class verdict is reused only when the constraints cannot tell nodes of one class apart
    (the evaluation has not "escaped"), and only for nodes that carry a computed class.
    """

    def __init__(
        self,
        ctx: EvalContext,
        source: FeasibleIterator,
        job_checkers: list[FeasibilityChecker],
        tg_checkers: list[FeasibilityChecker],
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.job_checkers = job_checkers
        self.tg_checkers = tg_checkers
        self.tg = ""

    def set_task_group(self, tg: str) -> None:
        self.tg = tg

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> Node | None:
        while True:
            node = self.source.next()
            if node is None:
                return None
            if self._passes(node):
                return node

    def _passes(self, node: Node) -> bool:
        elig = self.ctx.eligibility
        cls = node.computed_class
        group_cache = elig.groups.setdefault(self.tg, {})
        job_cacheable = bool(cls) and not elig.job_escaped
        tg_cacheable = job_cacheable and not elig.group_escaped.get(self.tg, False)
        if not self._check(node, self.job_checkers, elig.job, job_cacheable):
            return False
        return self._check(node, self.tg_checkers, group_cache, tg_cacheable)

    def _check(
        self,
        node: Node,
        checkers: list[FeasibilityChecker],
        cache: dict[str, bool],
        cacheable: bool,
    ) -> bool:
        cls = node.computed_class
        if cacheable and cls in cache:
            if not cache[cls]:
                self.ctx.filter_node(node, FILTER_CLASS_INELIGIBLE)
            return cache[cls]
        ok = all(c.feasible(node) for c in checkers)
        if cacheable:
            cache[cls] = ok
        return ok


def _distinct_hosts_enabled(constraints: list[Constraint]) -> bool:
    for c in constraints:
        if c.operand == CONSTRAINT_DISTINCT_HOSTS:
            return c.r_target.strip().lower() in ("", "true", "1", "t")
    return False


class DistinctHostsIterator:
    """distinct_hosts: no two allocations of the job (job-level) or group (group-level) share
    a node, counting what the plan proposes."""

    def __init__(self, ctx: EvalContext, source: FeasibleIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.job: Job | None = None
        self.tg: TaskGroup | None = None
        self.job_distinct = False
        self.tg_distinct = False

    def set_job(self, job: Job) -> None:
        self.job = job
        self.job_distinct = _distinct_hosts_enabled(job.constraints)

    def set_task_group(self, tg: TaskGroup) -> None:
        self.tg = tg
        self.tg_distinct = _distinct_hosts_enabled(tg.constraints)

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> Node | None:
        while True:
            node = self.source.next()
            if node is None or not (self.job_distinct or self.tg_distinct):
                return node
            if self._satisfied(node):
                return node
            self.ctx.filter_node(node, FILTER_DISTINCT_HOSTS)

    def _satisfied(self, node: Node) -> bool:
        assert self.job is not None and self.tg is not None
        for alloc in self.ctx.proposed_allocs(node.id):
            same_job = alloc.job_id == self.job.id and alloc.namespace == self.job.namespace
            if same_job and (self.job_distinct or alloc.task_group == self.tg.name):
                return False
        return True


class DistinctPropertyIterator:
    """distinct_property: at most RTarget (default 1) allocations per value of a node property,
    across the job (job-level constraint) or the group (group-level constraint)."""

    def __init__(self, ctx: EvalContext, source: FeasibleIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.job: Job | None = None
        self.job_props: list[Constraint] = []
        self.tg_props: list[Constraint] = []
        self.tg_name = ""
        # (constraint, job-level?) -> property value -> allocations using it
        self._counts: list[tuple[Constraint, dict[str, int]]] = []

    def set_job(self, job: Job) -> None:
        self.job = job
        self.job_props = [c for c in job.constraints if c.operand == CONSTRAINT_DISTINCT_PROPERTY]

    def set_task_group(self, tg: TaskGroup) -> None:
        self.tg_name = tg.name
        self.tg_props = [c for c in tg.constraints if c.operand == CONSTRAINT_DISTINCT_PROPERTY]
        self._counts = []
        if self.job_props or self.tg_props:
            assert self.job is not None
            allocs = self.ctx.proposed_job_allocs(self.job.namespace, self.job.id)
            for c in self.job_props:
                self._counts.append((c, self._count(c, allocs)))
            group_allocs = [a for a in allocs if a.task_group == tg.name]
            for c in self.tg_props:
                self._counts.append((c, self._count(c, group_allocs)))

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> Node | None:
        while True:
            node = self.source.next()
            if node is None or not self._counts:
                return node
            reason = self._violation(node)
            if not reason:
                return node
            self.ctx.filter_node(node, reason)

    def _violation(self, node: Node) -> str:
        for c, counts in self._counts:
            value = resolve_target(c.l_target, node)
            if value is None:
                return f"missing property {c.l_target!r}"
            allowed = _allowed_count(c.r_target)
            used = counts.get(value, 0)
            if used >= allowed:
                return f"distinct_property: {c.l_target}={value} used by {used} allocs"
        return ""

    def _count(self, c: Constraint, allocs: list[Allocation]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for alloc in allocs:
            node = self.ctx.state.node_by_id(alloc.node_id)
            value = resolve_target(c.l_target, node) if node is not None else None
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
        return counts


def _allowed_count(r_target: str) -> int:
    try:
        return max(int(r_target), 1) if r_target else 1
    except ValueError:
        return 1
