"""EvalContext: what one evaluation's placement stack shares (state, plan, metrics, RNG).

It answers the question every ranking stage asks, "what would this node hold if the plan so
far were committed?" (:meth:`EvalContext.proposed_allocs`), so placements within one plan
never overlap, and it keeps the :class:`~nomadic.structs.AllocMetric` that explains the
current placement, plus the per-class feasibility cache (:class:`EvalEligibility`).
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
from dataclasses import dataclass, field

from nomadic.structs import Allocation, AllocMetric, Node, NodeScoreMeta, Plan
from nomadic.structs.funcs import used_ports

from .interfaces import State

__all__ = ["EvalContext", "EvalEligibility", "NodeUsage", "seeded_rng"]

# How many of the best-scoring nodes a placement's metrics keep (Nomad's MaxRetainedNodeScores).
MAX_RETAINED_NODE_SCORES = 5
# Score name under which the normalised final score is recorded.
NORM_SCORE = "normalized-score"


def seeded_rng(eval_id: str, index: int) -> random.Random:
    """A RNG seeded from the eval ID and state index: retries shuffle differently, reruns don't."""
    seed = int.from_bytes(hashlib.sha256(eval_id.encode()).digest()[:8], "big")
    return random.Random(seed ^ index)


class EvalEligibility:
    """Feasibility verdicts per computed node class, for the job and for each task group.

    A verdict is only cached when the constraints involved cannot tell two nodes of the same
    class apart; constraints on ``unique.*`` targets make the evaluation "escaped".
    """

    def __init__(self) -> None:
        self.job: dict[str, bool] = {}
        self.groups: dict[str, dict[str, bool]] = {}
        self.job_escaped = False
        self.group_escaped: dict[str, bool] = {}

    def has_escaped(self) -> bool:
        return self.job_escaped or any(self.group_escaped.values())

    def get_classes(self) -> dict[str, bool]:
        """Class -> eligible, as blocked evals record it (Nomad's GetClasses).

        A class eligible for any group counts as eligible; the job's verdict overrides only
        when the job itself rules the class out.
        """
        classes: dict[str, bool] = {}
        for verdicts in self.groups.values():
            for cls, ok in verdicts.items():
                if ok:
                    classes[cls] = True
                else:
                    classes.setdefault(cls, False)
        for cls, ok in self.job.items():
            if ok:
                classes.setdefault(cls, True)
            else:
                classes[cls] = False
        return classes


@dataclass
class NodeUsage:
    """What a set of allocations holds on one node: cpu, memory, disk, host ports, and how
    many allocations of each (job, group). ``collision`` names a port claimed twice."""

    cpu: int = 0
    mem: int = 0
    disk: int = 0
    ports: set[int] = field(default_factory=set)
    collision: str = ""
    by_group: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, alloc: Allocation) -> None:
        key = (alloc.job_id, alloc.task_group)
        self.by_group[key] = self.by_group.get(key, 0) + 1
        if alloc.client_terminal():
            return
        ar = alloc.allocated_resources
        c, m, d = ar.comparable()
        self.cpu += c
        self.mem += m
        self.disk += d
        if self.collision:
            return
        for port in sorted(set(ar.ports())):
            if port <= 0:
                continue
            if port in self.ports:
                self.collision = f"port {port} already in use"
                return
            self.ports.add(port)

    def copy(self) -> NodeUsage:
        return NodeUsage(
            self.cpu, self.mem, self.disk, set(self.ports), self.collision, dict(self.by_group)
        )


class EvalContext:
    """Shared by every iterator of one evaluation's stack."""

    def __init__(self, state: State, plan: Plan, eval_id: str) -> None:
        self.state = state
        self.plan = plan
        self.eval_id = eval_id
        self.rng = seeded_rng(eval_id, state.latest_index())
        self.metrics = AllocMetric()
        self.eligibility = EvalEligibility()
        self.regexp_cache: dict[str, re.Pattern[str] | None] = {}
        self._scores: dict[str, NodeScoreMeta] = {}
        # node ID -> usage of its allocations in state (from the state's per-node index):
        # ranking a node adds only what the plan proposes for it, never walking the node's
        # allocations, which at scale are hundreds per node.
        self._base: dict[str, NodeUsage] = {}
        self._by_node: dict[str, dict[tuple[str, str], int]] | None = None
        self._placed: dict[str, tuple[list[Allocation], int, NodeUsage]] = {}

    def reset(self) -> None:
        """Start a fresh metric for the next placement."""
        self.metrics = AllocMetric()
        self._scores = {}

    def _job_counts(self, node_id: str) -> dict[tuple[str, str], int]:
        """(job, group) -> the plan's job's non-terminal allocations in state on the node."""
        if self._by_node is None:
            self._by_node = {}
            job = self.plan.job
            if job is not None:
                for a in self.state.allocs_by_job(job.namespace, job.id):
                    if not a.terminal():
                        counts = self._by_node.setdefault(a.node_id, {})
                        key = (a.job_id, a.task_group)
                        counts[key] = counts.get(key, 0) + 1
        return self._by_node.get(node_id, {})

    def _base_usage(self, node: Node) -> NodeUsage | None:
        """Usage of the node's allocations in state, from the state's index; None when their
        ports must be known (some hold host ports), which needs the allocations themselves."""
        cached = self._base.get(node.id)
        if cached is None:
            totals = self.state.node_usage(node.id)
            if totals.with_ports:
                return None
            cached = NodeUsage(totals.cpu, totals.mem, totals.disk)
            cached.ports, cached.collision = used_ports(node, [])
            cached.by_group = self._job_counts(node.id)
            self._base[node.id] = cached
        return cached

    def proposed_usage(self, node: Node) -> NodeUsage:
        """:class:`NodeUsage` of :meth:`proposed_allocs` plus the node's reserved ports,
        without walking every allocation on the node when the plan removes none of them.
        The result may be shared, and grows with later placements: read it, do not keep it."""
        plan = self.plan
        placing = plan.node_allocation.get(node.id, [])
        removing = [*plan.node_update.get(node.id, []), *plan.node_preemptions.get(node.id, [])]
        base = self._base_usage(node)
        if base is None:
            return self._walk(node)
        if not removing:
            if not placing:
                return base  # shared: callers only read it
            return self._grow(node, base, placing)
        if any(self._in_state(a, node.id) for a in (*removing, *placing)):
            return self._walk(node)
        usage = base.copy()
        for a in placing:
            usage.add(a)
        return usage

    def _grow(self, node: Node, base: NodeUsage, placing: list[Allocation]) -> NodeUsage:
        """Base usage plus the plan's placements on the node, adding only those appended since
        the last call (the plan's lists only grow while placing), so a node that takes many
        of an evaluation's allocations is not summed again for every one."""
        cached = self._placed.get(node.id)
        if cached is None or cached[0] is not placing or cached[1] > len(placing):
            cached = (placing, 0, base.copy())
        _, seen, usage = cached
        for a in placing[seen:]:
            if self._in_state(a, node.id):  # an in-place update: already in the base
                self._placed.pop(node.id, None)
                return self._walk(node)
            usage.add(a)
        self._placed[node.id] = (placing, len(placing), usage)
        return usage

    def _walk(self, node: Node) -> NodeUsage:
        usage = NodeUsage()
        usage.ports, usage.collision = used_ports(node, [])
        for a in self.proposed_allocs(node.id):
            usage.add(a)
        return usage

    def _in_state(self, alloc: Allocation, node_id: str) -> bool:
        """Is ``alloc`` a non-terminal allocation on the node in state (already counted)?"""
        old = self.state.alloc_by_id(alloc.id)
        return old is not None and old.node_id == node_id and not old.terminal()

    def proposed_allocs(self, node_id: str) -> list[Allocation]:
        """Non-terminal allocs on the node, minus the plan's stops, plus the plan's placements."""
        existing = [a for a in self.state.allocs_by_node(node_id) if not a.terminal()]
        removed = {a.id for a in self.plan.node_update.get(node_id, [])}
        removed |= {a.id for a in self.plan.node_preemptions.get(node_id, [])}
        placing = self.plan.node_allocation.get(node_id, [])
        removed |= {a.id for a in placing}
        return [a for a in existing if a.id not in removed] + list(placing)

    def proposed_job_allocs(self, namespace: str, job_id: str) -> list[Allocation]:
        """The job's non-terminal allocs as if the plan so far were committed."""
        plan = self.plan
        stopping = {a.id for allocs in plan.node_update.values() for a in allocs}
        placing = [
            a
            for allocs in plan.node_allocation.values()
            for a in allocs
            if a.job_id == job_id and a.namespace == namespace
        ]
        replaced = stopping | {a.id for a in placing}
        existing = self.state.allocs_by_job(namespace, job_id)
        return [a for a in existing if not a.terminal() and a.id not in replaced] + placing

    # --- metric recording (Nomad's AllocMetric methods) ---

    def evaluate_node(self) -> None:
        self.metrics.nodes_evaluated += 1

    def filter_node(self, node: Node, reason: str) -> None:
        m = self.metrics
        m.nodes_filtered += 1
        if node.node_class:
            m.class_filtered[node.node_class] = m.class_filtered.get(node.node_class, 0) + 1
        if reason:
            m.constraint_filtered[reason] = m.constraint_filtered.get(reason, 0) + 1

    def exhausted_node(self, node: Node, dimension: str) -> None:
        m = self.metrics
        m.nodes_exhausted += 1
        if node.node_class:
            m.class_exhausted[node.node_class] = m.class_exhausted.get(node.node_class, 0) + 1
        if dimension:
            m.dimension_exhausted[dimension] = m.dimension_exhausted.get(dimension, 0) + 1

    def score_node(self, node: Node, name: str, score: float) -> None:
        meta = self._scores.get(node.id)
        if meta is None:
            meta = self._scores[node.id] = NodeScoreMeta(node_id=node.id)
        if name == NORM_SCORE:
            meta.norm_score = score
        else:
            meta.scores[name] = score

    def populate_score_meta_data(self) -> None:
        """Keep the top five nodes by normalised score in the metric, best first."""
        best = heapq.nlargest(
            MAX_RETAINED_NODE_SCORES, self._scores.values(), key=lambda m: m.norm_score
        )
        self.metrics.score_meta_data = best
