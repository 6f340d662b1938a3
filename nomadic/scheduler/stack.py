"""GenericStack and SystemStack: the placement pipelines, wired in one place.

Each stage is a tiny iterator with ``next()``/``reset()``; the comment on each says why it
sits where it does. ``select(tg, options)`` returns the best node for one allocation, or None
with the reasons recorded in ``ctx.metrics``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from nomadic.structs import Job, Node, TaskGroup

from .constraint import escapes_class
from .context import EvalContext, EvalEligibility
from .device import DeviceChecker
from .feasible import (
    ConstraintChecker,
    DistinctHostsIterator,
    DistinctPropertyIterator,
    DriverChecker,
    FeasibilityWrapper,
    RandomIterator,
    StaticIterator,
)
from .rank import (
    BinPackIterator,
    FeasibleRankIterator,
    JobAntiAffinityIterator,
    NodeAffinityIterator,
    NodeReschedulingPenaltyIterator,
    RankedNode,
    ScoreNormalizationIterator,
)
from .select import (
    AFFINITY_SPREAD_LIMIT,
    BATCH_LIMIT,
    LimitIterator,
    MaxScoreIterator,
    service_limit,
)
from .spread import SpreadIterator
from .volumes import HostVolumeChecker
from .volumes import escapes_class as volumes_escape_class

__all__ = ["GenericStack", "SelectOptions", "Stack", "SystemStack"]


class Stack(Protocol):
    """What schedulers and the in-place update check need from a stack."""

    def set_nodes(self, nodes: list[Node]) -> None: ...

    def set_job(self, job: Job) -> None: ...

    def select(self, tg: TaskGroup, options: SelectOptions | None = None) -> RankedNode | None: ...


@dataclass
class SelectOptions:
    """Per-placement hints: nodes to penalise (failed before), nodes to try first (sticky)."""

    penalty_node_ids: set[str] = field(default_factory=set)
    preferred_nodes: list[Node] = field(default_factory=list)
    alloc_name: str = ""


class GenericStack:
    def __init__(self, batch: bool, ctx: EvalContext) -> None:
        self.batch = batch
        self.ctx = ctx
        self.job: Job | None = None
        self.limit_value = BATCH_LIMIT
        # Shuffle the nodes (seeded from the eval) so concurrent schedulers pick differently.
        self.source = RandomIterator(ctx, [])
        # Job constraints first: they rule out the most nodes for the least work.
        self.job_constraint = ConstraintChecker(ctx)
        # Group checks: drivers before constraints, as a missing driver is the cheaper test.
        self.tg_drivers = DriverChecker(ctx)
        self.tg_constraint = ConstraintChecker(ctx)
        # Host volumes: a dictionary lookup per requested volume.
        self.tg_host_volumes = HostVolumeChecker(ctx)
        # Devices last: their constraints look inside every device group of the node.
        self.tg_devices = DeviceChecker(ctx)
        # The wrapper caches the verdicts per computed node class.
        self.wrapped = FeasibilityWrapper(
            ctx,
            self.source,
            [self.job_constraint],
            [self.tg_drivers, self.tg_constraint, self.tg_host_volumes, self.tg_devices],
        )
        # distinct_* depend on the plan so far, so they run after the cacheable checks.
        self.distinct_hosts = DistinctHostsIterator(ctx, self.wrapped)
        self.distinct_property = DistinctPropertyIterator(ctx, self.distinct_hosts)
        # From here on every option is feasible; ranking appends scores.
        rank_source = FeasibleRankIterator(ctx, self.distinct_property)
        # Fit first: a node that cannot hold the group must not be scored at all.
        self.bin_pack = BinPackIterator(ctx, rank_source)
        # Spread one job's allocations out so a node failure takes fewer of them.
        self.job_anti_aff = JobAntiAffinityIterator(ctx, self.bin_pack)
        # Steer replacements away from the nodes where their predecessors failed.
        self.node_resched_penalty = NodeReschedulingPenaltyIterator(ctx, self.job_anti_aff)
        # User preferences (affinity, spread) come after the built-in scores.
        self.node_affinity = NodeAffinityIterator(ctx, self.node_resched_penalty)
        self.spread = SpreadIterator(ctx, self.node_affinity)
        # Average every appended score into FinalScore.
        self.score_norm = ScoreNormalizationIterator(ctx, self.spread)
        # Score only a log2-sized sample of feasible nodes ...
        self.limit = LimitIterator(ctx, self.score_norm, BATCH_LIMIT)
        # ... and keep the best of them.
        self.max_score = MaxScoreIterator(ctx, self.limit)

    def set_nodes(self, nodes: list[Node]) -> None:
        self.source.set_nodes(nodes)
        self.limit_value = BATCH_LIMIT if self.batch else service_limit(len(nodes))
        self.limit.set_limit(self.limit_value)

    def set_job(self, job: Job) -> None:
        self.job = job
        self.job_constraint.set_constraints(job.constraints)
        self.distinct_hosts.set_job(job)
        self.distinct_property.set_job(job)
        self.job_anti_aff.set_job(job)
        self.node_affinity.set_job(job)
        self.spread.set_job(job)
        self.ctx.eligibility.job_escaped = any(escapes_class(c) for c in job.constraints)

    def select(self, tg: TaskGroup, options: SelectOptions | None = None) -> RankedNode | None:
        """The best node for one allocation of ``tg``, or None (see ``ctx.metrics``)."""
        options = options or SelectOptions()
        if options.preferred_nodes:
            original = self.source.nodes
            self.source.set_nodes(options.preferred_nodes)
            option = self._select(tg, options)
            self.source.set_nodes(original)
            if option is not None:
                return option
        return self._select(tg, options)

    def _select(self, tg: TaskGroup, options: SelectOptions) -> RankedNode | None:
        self.max_score.reset()
        self.ctx.reset()
        start = time.perf_counter_ns()
        self._set_task_group(tg, options)
        option = self.max_score.next()
        self.ctx.metrics.allocation_time = time.perf_counter_ns() - start
        return option

    def _set_task_group(self, tg: TaskGroup, options: SelectOptions) -> None:
        constraints = list(tg.constraints)
        for task in tg.tasks:
            constraints += task.constraints
        self.tg_drivers.set_drivers({task.driver for task in tg.tasks})
        self.tg_constraint.set_constraints(constraints)
        self.tg_host_volumes.set_volumes(options.alloc_name, tg.volumes)
        self.tg_devices.set_task_group(tg)
        self.ctx.eligibility.group_escaped[tg.name] = any(
            escapes_class(c) for c in constraints
        ) or volumes_escape_class(tg.volumes)
        self.wrapped.set_task_group(tg.name)
        self.distinct_hosts.set_task_group(tg)
        self.distinct_property.set_task_group(tg)
        self.bin_pack.set_task_group(tg)
        self.job_anti_aff.set_task_group(tg)
        self.node_resched_penalty.set_penalty_nodes(options.penalty_node_ids)
        self.node_affinity.set_task_group(tg)
        self.spread.set_task_group(tg)
        if self.node_affinity.has_affinities() or self.spread.has_spreads():
            self.limit.set_limit(max(tg.count, AFFINITY_SPREAD_LIMIT))
        else:
            self.limit.set_limit(self.limit_value)


class SystemStack:
    """The system and sysbatch pipeline: one node at a time, every node in order.

    No shuffle and no limit (every eligible node gets an allocation), no distinct_hosts
    (one per node already), no affinity or spread (there is nothing to choose between).
    Feasibility verdicts are not cached by class: each node is judged on its own.
    """

    def __init__(self, ctx: EvalContext, *, evict: bool) -> None:
        self.ctx = ctx
        # Visit nodes in order: the scheduler hands over one node per placement.
        self.source = StaticIterator(ctx, [])
        # Job constraints, then the group's drivers (cheap) and constraints.
        self.job_constraint = ConstraintChecker(ctx)
        self.tg_drivers = DriverChecker(ctx)
        self.tg_constraint = ConstraintChecker(ctx)
        self.tg_host_volumes = HostVolumeChecker(ctx)
        self.tg_devices = DeviceChecker(ctx)
        self.wrapped = FeasibilityWrapper(
            ctx,
            self.source,
            [self.job_constraint],
            [self.tg_drivers, self.tg_constraint, self.tg_host_volumes, self.tg_devices],
        )
        # distinct_property still limits how many nodes per property value run the group.
        self.distinct_property = DistinctPropertyIterator(ctx, self.wrapped)
        rank_source = FeasibleRankIterator(ctx, self.distinct_property)
        # Fit (evicting lower-priority allocs when preemption is enabled) and score.
        self.bin_pack = BinPackIterator(ctx, rank_source, evict=evict)
        self.score_norm = ScoreNormalizationIterator(ctx, self.bin_pack)

    def set_nodes(self, nodes: list[Node]) -> None:
        self.source.set_nodes(nodes)

    def set_job(self, job: Job) -> None:
        self.job_constraint.set_constraints(job.constraints)
        self.distinct_property.set_job(job)
        self.bin_pack.priority = job.priority

    def select(self, tg: TaskGroup, options: SelectOptions | None = None) -> RankedNode | None:
        self.score_norm.reset()
        self.ctx.reset()
        self.ctx.eligibility = EvalEligibility()
        start = time.perf_counter_ns()
        constraints = list(tg.constraints)
        for task in tg.tasks:
            constraints += task.constraints
        self.tg_drivers.set_drivers({task.driver for task in tg.tasks})
        self.tg_constraint.set_constraints(constraints)
        self.tg_host_volumes.set_volumes(options.alloc_name if options else "", tg.volumes)
        self.tg_devices.set_task_group(tg)
        self.wrapped.set_task_group(tg.name)
        self.distinct_property.set_task_group(tg)
        self.bin_pack.set_task_group(tg)
        option = self.score_norm.next()
        self.ctx.metrics.allocation_time = time.perf_counter_ns() - start
        return option
