"""Ranking: fit each feasible node and append scores; the final score is their average.

    FeasibleRankIterator -> BinPackIterator -> JobAntiAffinityIterator ->
    NodeReschedulingPenaltyIterator -> NodeAffinityIterator -> SpreadIterator (spread.py) ->
    ScoreNormalizationIterator

Scores are recorded per node in the metric (``binpack``, ``job-anti-affinity``,
``node-reschedule-penalty``, ``node-affinity``, ``normalized-score``), as Nomad names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

from nomadic.structs import (
    Affinity,
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    Job,
    NetworkResource,
    Node,
    RequestedDevice,
    Resources,
    TaskGroup,
)
from nomadic.structs.funcs import (
    BINPACK_MAX_FIT_SCORE,
    DIMENSION_CPU,
    DIMENSION_DISK,
    DIMENSION_MEMORY,
    DIMENSION_PORT_COLLISION,
    node_available,
    score_fit_binpack,
    score_fit_spread,
)

from .constraint import check_constraint, resolve_target
from .context import NORM_SCORE, EvalContext, NodeUsage
from .device import DEVICE_NO_MATCH, DeviceAllocator, device_meets_constraints
from .feasible import FeasibleIterator
from .network import PortIndex
from .preemption import Preemptor

__all__ = [
    "BinPackIterator",
    "FeasibleRankIterator",
    "JobAntiAffinityIterator",
    "NodeAffinityIterator",
    "NodeReschedulingPenaltyIterator",
    "RankIterator",
    "RankedNode",
    "ScoreNormalizationIterator",
]

# (task resources, shared resources, (cpu, memory, disk, ports)) offered to every node
_Offer = tuple[
    dict[str, AllocatedTaskResources], AllocatedSharedResources, tuple[int, int, int, list[int]]
]

SCHEDULER_ALGORITHM_BINPACK: Final = "binpack"
SCHEDULER_ALGORITHM_SPREAD: Final = "spread"


@dataclass
class RankedNode:
    """A feasible node with the scores and resource offers the ranking stages attached."""

    node: Node
    final_score: float = 0.0
    scores: list[float] = field(default_factory=list)
    task_resources: dict[str, AllocatedTaskResources] = field(default_factory=dict)
    alloc_resources: AllocatedSharedResources | None = None
    preempted_allocs: list[Allocation] = field(default_factory=list)
    _proposed: list[Allocation] | None = None
    usage: NodeUsage | None = None  # set by BinPackIterator

    def proposed_allocs(self, ctx: EvalContext) -> list[Allocation]:
        if self._proposed is None:
            self._proposed = ctx.proposed_allocs(self.node.id)
        return self._proposed


class RankIterator(Protocol):
    def next(self) -> RankedNode | None: ...
    def reset(self) -> None: ...


class FeasibleRankIterator:
    """Turns feasible nodes into ranked options with no score yet."""

    def __init__(self, ctx: EvalContext, source: FeasibleIterator) -> None:
        self.ctx = ctx
        self.source = source

    def next(self) -> RankedNode | None:
        node = self.source.next()
        return RankedNode(node=node) if node is not None else None

    def reset(self) -> None:
        self.source.reset()


class BinPackIterator:
    """Checks the group fits beside what the node holds (and the plan proposes), assigns its
    ports and device instances, and scores the fit: ScoreFitBinPack (or ScoreFitSpread) / 18,
    plus the device affinity score when a device request has affinities.

    With ``evict`` (system jobs, preemption enabled) a node that is too full is still an
    option when evicting lower-priority allocations (preemption.py) frees enough; the
    option then carries them in ``preempted_allocs``.
    """

    def __init__(
        self,
        ctx: EvalContext,
        source: RankIterator,
        algorithm: str = SCHEDULER_ALGORITHM_BINPACK,
        *,
        evict: bool = False,
        priority: int = 0,
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.algorithm = algorithm
        self.evict = evict
        self.priority = priority
        self.tg: TaskGroup | None = None
        self._offer: _Offer | None = None

    def set_task_group(self, tg: TaskGroup) -> None:
        self.tg = tg
        # Without ports every node gets the same offer: build it once per task group.
        self._offer = None
        if not tg.networks and not any(
            t.resources.networks or t.resources.devices for t in tg.tasks
        ):
            tasks = {t.name: _task_resources(t.resources) for t in tg.tasks}
            shared = AllocatedSharedResources(disk_mb=tg.ephemeral_disk.size_mb)
            offered = AllocatedResources(tasks=tasks, shared=shared)
            self._offer = (tasks, shared, (*offered.comparable(), offered.ports()))

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        while True:
            option = self.source.next()
            if option is None:
                return None
            if self._offer is not None:
                usage = self.ctx.proposed_usage(option.node)
                option.usage = usage
                if usage.collision:
                    self.ctx.exhausted_node(option.node, DIMENSION_PORT_COLLISION)
                    continue
                tasks, shared, ask = self._offer
                if self._score(option, usage, dict(tasks), shared, ask):
                    return option
                continue
            if self._fit(option):
                return option

    def _fit(self, option: RankedNode) -> bool:
        """Ports, devices, then resources; with ``evict``, a static port or device held by
        lower-priority allocations frees them and the fit starts over without them."""
        evicted: list[Allocation] = []
        while True:
            verdict = self._try_fit(option, evicted)
            if isinstance(verdict, bool):
                return verdict
            evicted += verdict

    def _try_fit(self, option: RankedNode, evicted: list[Allocation]) -> bool | list[Allocation]:
        """True/False, or more allocations to evict before trying again."""
        assert self.tg is not None
        node, tg = option.node, self.tg
        usage = self.ctx.proposed_usage(node)
        if evicted:
            usage = _without(usage, evicted)
        option.usage = usage
        if usage.collision:
            self.ctx.exhausted_node(node, DIMENSION_PORT_COLLISION)
            return False
        shared = AllocatedSharedResources(disk_mb=tg.ephemeral_disk.size_mb)
        ports: PortIndex | None = None
        asks: list[tuple[str | None, NetworkResource]] = (
            [(None, tg.networks[0])] if tg.networks else []
        )
        asks += [(t.name, t.resources.networks[0]) for t in tg.tasks if t.resources.networks]
        tasks: dict[str, AllocatedTaskResources] = {
            t.name: _task_resources(t.resources) for t in tg.tasks
        }
        for task_name, ask in asks:
            if ports is None:
                ports = PortIndex(node, usage.ports, self.ctx.rng)
            offer, err = ports.assign(ask)
            if offer is None:
                more = self._evict_for_ports(option, evicted, ask, usage) if self.evict else []
                if more:
                    return more
                self.ctx.exhausted_node(node, f"network: {err}")
                return False
            if task_name is None:
                shared.networks = [offer]
                shared.ports = ports.port_mappings(offer)
            else:
                tasks[task_name].networks = [offer]
        devices: DeviceAllocator | None = None
        for task in tg.tasks:
            for request in task.resources.devices:
                if devices is None:
                    live = _excluding(option.proposed_allocs(self.ctx), evicted)
                    devices = DeviceAllocator(self.ctx, node, live)
                device = devices.assign(request)
                if device is None:
                    more = self._evict_for_device(option, evicted, request) if self.evict else []
                    if more:
                        return more
                    self.ctx.exhausted_node(node, f"devices: {DEVICE_NO_MATCH}")
                    return False
                tasks[task.name].devices.append(device)
        if not self._score(option, usage, tasks, shared, evicted=evicted):
            return False
        device_score = devices.affinity_score() if devices is not None else None
        if device_score is not None:
            option.scores.append(device_score)
            self.ctx.score_node(node, "devices", device_score)
        return True

    def _evict_for_ports(
        self, option: RankedNode, evicted: list[Allocation], ask: NetworkResource, usage: NodeUsage
    ) -> list[Allocation]:
        wanted = {p.value for p in ask.reserved_ports} & usage.ports
        live = _excluding(option.proposed_allocs(self.ctx), evicted)
        return self._preemptor().preempt_for_ports(live, wanted) if wanted else []

    def _evict_for_device(
        self, option: RankedNode, evicted: list[Allocation], request: RequestedDevice
    ) -> list[Allocation]:
        live = _excluding(option.proposed_allocs(self.ctx), evicted)
        return self._preemptor().preempt_for_device(
            option.node,
            live,
            request.count,
            lambda group: device_meets_constraints(self.ctx, request, group),
        )

    def _preemptor(self) -> Preemptor:
        planned: dict[tuple[str, str], int] = {}
        for allocs in self.ctx.plan.node_preemptions.values():
            for a in allocs:
                planned[(a.namespace, a.job_id)] = planned.get((a.namespace, a.job_id), 0) + 1
        return Preemptor(self.priority, planned)

    def _score(
        self,
        option: RankedNode,
        usage: NodeUsage,
        tasks: dict[str, AllocatedTaskResources],
        shared: AllocatedSharedResources,
        ask: tuple[int, int, int, list[int]] | None = None,
        evicted: list[Allocation] | None = None,
    ) -> bool:
        """Fit and score the node with the candidate added (allocs_fit's checks, in order).
        ``ask``: the candidate's (cpu, memory, disk, ports), when already known."""
        node = option.node
        if ask is None:
            candidate = AllocatedResources(tasks=tasks, shared=shared)
            ask = (*candidate.comparable(), candidate.ports())
        c, m, d, ports = ask
        cpu, mem, disk = usage.cpu + c, usage.mem + m, usage.disk + d
        avail_cpu, avail_mem, avail_disk = node_available(node)
        dimension = ""
        if cpu > avail_cpu:
            dimension = DIMENSION_CPU
        elif mem > avail_mem:
            dimension = DIMENSION_MEMORY
        elif disk > avail_disk:
            dimension = DIMENSION_DISK
        elif ports and _collides(ports, usage.ports):
            dimension = DIMENSION_PORT_COLLISION
        if evicted:  # a fresh option's list is empty: only a retry after evictions sets it
            option.preempted_allocs = list(evicted)
        if dimension:
            freed = self._preempt(option, tasks, shared, evicted or []) if self.evict else None
            if freed is None:
                self.ctx.exhausted_node(node, dimension)
                return False
            cpu, mem, disk = cpu - freed[0], mem - freed[1], disk - freed[2]
        score_fit = (
            score_fit_spread if self.algorithm == SCHEDULER_ALGORITHM_SPREAD else score_fit_binpack
        )
        normalized = score_fit(node, (cpu, mem, disk)) / BINPACK_MAX_FIT_SCORE
        option.scores.append(normalized)
        option.task_resources = tasks
        option.alloc_resources = shared
        self.ctx.score_node(node, "binpack", normalized)
        return True

    def _preempt(
        self,
        option: RankedNode,
        tasks: dict[str, AllocatedTaskResources],
        shared: AllocatedSharedResources,
        evicted: list[Allocation],
    ) -> tuple[int, int, int] | None:
        """Lower-priority allocations whose eviction makes the candidate fit (added to the
        option's), as the (cpu, memory, disk) they free; None when there are none."""
        live = _excluding(option.proposed_allocs(self.ctx), evicted)
        candidate = Allocation(allocated_resources=AllocatedResources(tasks=tasks, shared=shared))
        victims = self._preemptor().preempt_for_task_group(
            option.node, live, candidate.allocated_resources.comparable()
        )
        if not victims:
            return None
        option.preempted_allocs = [*evicted, *victims]
        cpu = mem = disk = 0
        for alloc in victims:
            if not alloc.client_terminal():
                c, m, d = alloc.allocated_resources.comparable()
                cpu, mem, disk = cpu + c, mem + m, disk + d
        return cpu, mem, disk


def _excluding(allocs: list[Allocation], evicted: list[Allocation]) -> list[Allocation]:
    if not evicted:
        return allocs
    gone = {a.id for a in evicted}
    return [a for a in allocs if a.id not in gone]


def _without(usage: NodeUsage, evicted: list[Allocation]) -> NodeUsage:
    """``usage`` as it would be once ``evicted`` are gone."""
    out = usage.copy()
    for alloc in evicted:
        if alloc.client_terminal():
            continue
        c, m, d = alloc.allocated_resources.comparable()
        out.cpu, out.mem, out.disk = out.cpu - c, out.mem - m, out.disk - d
        out.ports.difference_update(alloc.allocated_resources.ports())
    return out


def _task_resources(res: Resources) -> AllocatedTaskResources:
    return AllocatedTaskResources(
        cpu=AllocatedCpuResources(cpu_shares=res.cpu),
        memory=AllocatedMemoryResources(memory_mb=res.memory_mb, memory_max_mb=res.memory_max_mb),
    )


def _collides(ports: list[int], used: set[int]) -> bool:
    seen: set[int] = set()
    for port in ports:
        if port <= 0 or port in seen:
            continue
        if port in used:
            return True
        seen.add(port)
    return False


class JobAntiAffinityIterator:
    """Penalises nodes already running this job's group: -(collisions + 1) / count."""

    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.job_id = ""
        self.tg_name = ""
        self.desired_count = 1

    def set_job(self, job: Job) -> None:
        self.job_id = job.id

    def set_task_group(self, tg: TaskGroup) -> None:
        self.tg_name = tg.name
        self.desired_count = max(tg.count, 1)

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        usage = option.usage or self.ctx.proposed_usage(option.node)
        collisions = usage.by_group.get((self.job_id, self.tg_name), 0)
        penalty = 0.0
        if collisions > 0:
            penalty = -(collisions + 1) / self.desired_count
            option.scores.append(penalty)
        self.ctx.score_node(option.node, "job-anti-affinity", penalty)
        return option


class NodeReschedulingPenaltyIterator:
    """Scores -1 on nodes where this allocation's previous attempts failed."""

    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.penalty_nodes: set[str] = set()

    def set_penalty_nodes(self, nodes: set[str]) -> None:
        self.penalty_nodes = nodes

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        penalty = -1.0 if option.node.id in self.penalty_nodes else 0.0
        if penalty:
            option.scores.append(penalty)
        self.ctx.score_node(option.node, "node-reschedule-penalty", penalty)
        return option


class NodeAffinityIterator:
    """Scores the matching affinities' weights over the sum of |weights|, in [-1, 1]."""

    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.job_affinities: list[Affinity] = []
        self.affinities: list[Affinity] = []

    def set_job(self, job: Job) -> None:
        self.job_affinities = list(job.affinities)

    def set_task_group(self, tg: TaskGroup) -> None:
        self.affinities = self.job_affinities + list(tg.affinities)
        for task in tg.tasks:
            self.affinities += task.affinities

    def has_affinities(self) -> bool:
        return bool(self.affinities)

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        if not self.affinities:
            self.ctx.score_node(option.node, "node-affinity", 0.0)
            return option
        total_weight = sum(abs(a.weight) for a in self.affinities)
        score = sum(a.weight for a in self.affinities if self._matches(a, option.node))
        if score != 0 and total_weight:
            norm = score / total_weight
            option.scores.append(norm)
            self.ctx.score_node(option.node, "node-affinity", norm)
        return option

    def _matches(self, affinity: Affinity, node: Node) -> bool:
        lval = resolve_target(affinity.l_target, node)
        rval = resolve_target(affinity.r_target, node)
        return check_constraint(self.ctx, affinity.operand, lval, rval)


class ScoreNormalizationIterator:
    """Final score = the plain average of every score the stages appended."""

    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None or not option.scores:
            return option
        option.final_score = sum(option.scores) / len(option.scores)
        self.ctx.score_node(option.node, NORM_SCORE, option.final_score)
        return option
