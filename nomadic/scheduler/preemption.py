"""Preemption: which lower-priority allocations to evict so a task group fits on a node.

Nomad's ``scheduler/feasible/preemption.go`` for CPU, memory and disk:

    candidates = allocs whose job priority is at least 10 below the placing job's
    group them by priority, lowest first; within a group repeatedly take the alloc whose
      resources are closest ("distance") to what is still needed, until the node's free
      resources plus everything taken cover the ask
    second pass (filter_superset): walk the picks by distance to the whole ask, largest
      first, and keep only as many as it takes to cover the ask

distance = Euclidean length of ((ask - used) / ask) over (memory, cpu, disk); once more of
one job's allocs would be preempted than its ``migrate.max_parallel``, each further one
costs 50 more, so preemptions spread over jobs rather than take a whole service down.

Ports and devices have their own paths, as in Nomad (``PreemptForNetwork``,
``PreemptForDevice``):

    ports: the allocations holding the static ports the group asks for are evicted when every
      one of them may be (a port the node itself reserves, or one held by a job that is not
      10 priority lower, cannot be freed)
    devices: per matching device group, take eligible holders lowest priority first (most
      instances first on a tie) until enough instances are free; of the groups where that
      works, evict from the one whose victims' priorities sum lowest
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from nomadic.structs import Allocation, Node, NodeDeviceResource
from nomadic.structs.funcs import node_available

__all__ = [
    "MAX_PARALLEL_PENALTY",
    "PRIORITY_DELTA",
    "Preemptor",
    "basic_resource_distance",
    "score_for_task_group",
]

# Only allocations of jobs at least this much lower in priority may be preempted.
PRIORITY_DELTA: Final = 10
# Score penalty per preemption beyond a job's migrate.max_parallel.
MAX_PARALLEL_PENALTY: Final = 50.0

Resources = tuple[int, int, int]  # (cpu MHz, memory MB, disk MB)


def basic_resource_distance(ask: Resources, used: Resources) -> float:
    """How far ``used`` is from ``ask``, each dimension normalised by the ask (0 = exact)."""
    coords = []
    for a, u in ((ask[1], used[1]), (ask[0], used[0]), (ask[2], used[2])):
        coords.append((a - u) / a if a > 0 else 0.0)
    return math.sqrt(sum(c * c for c in coords))


def score_for_task_group(
    ask: Resources, used: Resources, max_parallel: int, preempted_of_job: int
) -> float:
    """Distance plus the max_parallel penalty (lower is better)."""
    penalty = 0.0
    if max_parallel > 0 and preempted_of_job >= max_parallel:
        penalty = (preempted_of_job + 1 - max_parallel) * MAX_PARALLEL_PENALTY
    return basic_resource_distance(ask, used) + penalty


def _superset(have: list[int], want: Resources) -> bool:
    return all(h >= w for h, w in zip(have, want, strict=True))


@dataclass
class _Candidate:
    alloc: Allocation
    resources: Resources
    max_parallel: int


class Preemptor:
    """Chooses allocations to preempt on one node for one placement.

    ``current`` is what the node would hold (plan included); ``planned`` counts allocations
    the plan already preempts, per job, for the max_parallel penalty.
    """

    def __init__(self, job_priority: int, planned: dict[tuple[str, str], int] | None = None):
        self.job_priority = job_priority
        self.planned = planned or {}

    def preempt_for_task_group(
        self, node: Node, current: list[Allocation], ask: Resources
    ) -> list[Allocation]:
        """The allocations to evict so ``ask`` fits, or [] when no eligible set is enough."""
        remaining = list(node_available(node))
        for alloc in current:
            if not alloc.client_terminal():
                for i, v in enumerate(alloc.allocated_resources.comparable()):
                    remaining[i] -= v
        groups = self._grouped_candidates(current)
        available = list(remaining)
        needed = list(ask)
        picked: list[_Candidate] = []
        counts = dict(self.planned)
        met = False
        for group in groups:
            while group and not met:
                best = min(
                    group,
                    key=lambda c: score_for_task_group(
                        (needed[0], needed[1], needed[2]),
                        c.resources,
                        c.max_parallel,
                        counts.get(_job_key(c.alloc), 0),
                    ),
                )
                group.remove(best)
                picked.append(best)
                counts[_job_key(best.alloc)] = counts.get(_job_key(best.alloc), 0) + 1
                for i, v in enumerate(best.resources):
                    available[i] += v
                    needed[i] -= v
                met = _superset(available, ask)
            if met:
                break
        if not met:
            return []
        return self._filter_superset(picked, remaining, ask)

    def eligible(self, alloc: Allocation) -> bool:
        """Live, and of a job at least PRIORITY_DELTA lower (never the placing job's own)."""
        job = alloc.job
        return (
            job is not None
            and not alloc.terminal()
            and (self.job_priority - job.priority >= PRIORITY_DELTA)
        )

    def preempt_for_ports(self, current: Iterable[Allocation], ports: set[int]) -> list[Allocation]:
        """The allocations holding any of ``ports``, or [] unless every holder may go."""
        holders = [
            a
            for a in current
            if not a.client_terminal() and ports.intersection(a.allocated_resources.ports())
        ]
        if not holders or not all(self.eligible(a) for a in holders):
            return []
        return holders

    def preempt_for_device(
        self,
        node: Node,
        current: list[Allocation],
        count: int,
        matches: Callable[[NodeDeviceResource], bool],
    ) -> list[Allocation]:
        """The cheapest set of allocations whose device instances make ``count`` free in one
        matching device group, or []."""
        held: dict[tuple[str, str], Allocation] = {}
        for alloc in current:
            if not alloc.client_terminal():
                for device in alloc.allocated_resources.device_ids():
                    held[device] = alloc
        best: list[Allocation] = []
        best_cost = 0
        for group in node.node_resources.devices:
            if not matches(group):
                continue
            key = group.id_tuple()
            healthy = [i.id for i in group.instances if i.healthy]
            free = sum(1 for i in healthy if (key, i) not in held)
            holders: dict[str, tuple[Allocation, int]] = {}
            for instance in healthy:
                holder = held.get((key, instance))
                if holder is not None and self.eligible(holder):
                    prev = holders.get(holder.id, (holder, 0))
                    holders[holder.id] = (holder, prev[1] + 1)
            ordered = sorted(
                holders.values(), key=lambda h: (h[0].job.priority if h[0].job else 0, -h[1])
            )
            picked: list[Allocation] = []
            for alloc, instances in ordered:
                if free >= count:
                    break
                picked.append(alloc)
                free += instances
            if free < count or not picked:
                continue
            cost = sum(a.job.priority for a in picked if a.job is not None)
            if not best or cost < best_cost:
                best, best_cost = picked, cost
        return best

    def _grouped_candidates(self, current: list[Allocation]) -> list[list[_Candidate]]:
        by_priority: dict[int, list[_Candidate]] = {}
        for alloc in current:
            job = alloc.job
            if job is None or not self.eligible(alloc):
                continue
            tg = job.lookup_task_group(alloc.task_group)
            migrate = (tg.migrate if tg is not None else None) or job.migrate
            by_priority.setdefault(job.priority, []).append(
                _Candidate(
                    alloc,
                    alloc.allocated_resources.comparable(),
                    migrate.max_parallel if migrate is not None else 0,
                )
            )
        return [by_priority[p] for p in sorted(by_priority)]

    @staticmethod
    def _filter_superset(
        picked: list[_Candidate], remaining: list[int], ask: Resources
    ) -> list[Allocation]:
        """Drop picks the others already make redundant (Nomad's filterSuperset)."""
        ordered = sorted(
            picked, key=lambda c: basic_resource_distance(ask, c.resources), reverse=True
        )
        available = list(remaining)
        out: list[Allocation] = []
        for cand in ordered:
            out.append(cand.alloc)
            for i, v in enumerate(cand.resources):
                available[i] += v
            if _superset(available, ask):
                break
        return out


def _job_key(alloc: Allocation) -> tuple[str, str]:
    return alloc.namespace, alloc.job_id
