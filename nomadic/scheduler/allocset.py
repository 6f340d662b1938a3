"""Sorting a group's allocations into the reconciler's buckets, and naming new ones.

- :func:`tainted_nodes`: nodes under the job's allocs that are down, draining or gone
- :func:`filter_by_tainted`: untainted / migrate / lost
- :func:`filter_by_reschedulable`: untainted / reschedule now / reschedule later
- :class:`AllocNameIndex`: ``job.group[i]`` names, reusing the lowest free indexes
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nomadic.structs import Allocation, Node
from nomadic.structs.consts import (
    ALLOC_CLIENT_COMPLETE,
    ALLOC_CLIENT_FAILED,
    ALLOC_CLIENT_LOST,
    ALLOC_DESIRED_EVICT,
    ALLOC_DESIRED_STOP,
    NODE_STATUS_DISCONNECTED,
    NODE_STATUS_DOWN,
)

from .interfaces import State
from .reschedule import next_reschedule_time, ran_successfully

__all__ = [
    "RESCHEDULE_WINDOW",
    "AllocNameIndex",
    "DelayedReschedule",
    "alloc_name",
    "filter_by_reschedulable",
    "filter_by_tainted",
    "tainted_nodes",
]

# A failed alloc due for rescheduling within this window is replaced now (1s, as Nomad).
RESCHEDULE_WINDOW: Final = 1_000_000_000

AllocSet = dict[str, Allocation]

# Node statuses whose allocs are lost. Disconnected clients (max_client_disconnect) are not
# modelled yet, so a disconnected node's allocs are lost as in Nomad without that setting.
_GONE: Final = frozenset({NODE_STATUS_DOWN, NODE_STATUS_DISCONNECTED})


def alloc_name(job_id: str, group: str, index: int) -> str:
    return f"{job_id}.{group}[{index}]"


def tainted_nodes(state: State, allocs: list[Allocation]) -> dict[str, Node | None]:
    """Node ID -> node (None if gone) for nodes of live allocs that are down, disconnected or
    draining."""
    out: dict[str, Node | None] = {}
    for alloc in allocs:
        if alloc.terminal() or alloc.node_id in out:
            continue
        node = state.node_by_id(alloc.node_id)
        if node is None or node.status in _GONE or node.drain:
            out[alloc.node_id] = node
    return out


def filter_by_tainted(
    allocs: AllocSet, tainted: dict[str, Node | None]
) -> tuple[AllocSet, AllocSet, AllocSet]:
    """(untainted, migrate, lost). Terminal allocs are always untainted."""
    untainted: AllocSet = {}
    migrate: AllocSet = {}
    lost: AllocSet = {}
    for aid, alloc in allocs.items():
        if alloc.terminal():
            untainted[aid] = alloc
        elif alloc.desired_transition.migrate:
            migrate[aid] = alloc
        elif alloc.node_id not in tainted:
            untainted[aid] = alloc
        else:
            node = tainted[alloc.node_id]
            if node is None or node.status in _GONE:
                lost[aid] = alloc
            else:
                untainted[aid] = alloc
    return untainted, migrate, lost


@dataclass
class DelayedReschedule:
    alloc: Allocation
    reschedule_time: int


def _should_filter(alloc: Allocation, batch: bool) -> tuple[bool, bool]:
    """(keep as untainted, ignore entirely) for allocs that are not rescheduling candidates."""
    stopped = alloc.desired_status in (ALLOC_DESIRED_STOP, ALLOC_DESIRED_EVICT)
    if batch:
        if stopped:
            return (True, False) if ran_successfully(alloc) else (False, True)
        if alloc.client_status != ALLOC_CLIENT_FAILED:
            return True, False
        return False, False
    if stopped or alloc.client_status in (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_LOST):
        return False, True
    return False, False


def filter_by_reschedulable(
    allocs: AllocSet, batch: bool, now: int, eval_id: str
) -> tuple[AllocSet, AllocSet, list[DelayedReschedule]]:
    """(untainted, reschedule now, reschedule later) for the untainted bucket."""
    untainted: AllocSet = {}
    now_set: AllocSet = {}
    later: list[DelayedReschedule] = []
    for aid, alloc in allocs.items():
        if alloc.next_allocation and alloc.terminal():
            continue  # already replaced
        keep, ignore = _should_filter(alloc, batch)
        if keep:
            untainted[aid] = alloc
        if keep or ignore:
            continue
        when, eligible = next_reschedule_time(alloc)
        force = bool(alloc.desired_transition.force_reschedule)
        if force or (
            eligible and (alloc.followup_eval_id == eval_id or when - now <= RESCHEDULE_WINDOW)
        ):
            now_set[aid] = alloc
            continue
        untainted[aid] = alloc
        if eligible and not alloc.followup_eval_id:
            later.append(DelayedReschedule(alloc, when))
    return untainted, now_set, later


class AllocNameIndex:
    """Which ``job.group[i]`` indexes are taken; new names fill the lowest free ones."""

    def __init__(self, job_id: str, group: str, count: int, allocs: AllocSet) -> None:
        self.job_id = job_id
        self.group = group
        self.count = count
        self.used: set[int] = {a.index() for a in allocs.values()}

    def highest(self, n: int) -> set[str]:
        """Remove and return the names of the ``n`` highest used indexes."""
        out: set[str] = set()
        for idx in sorted(self.used, reverse=True)[:n]:
            self.used.discard(idx)
            out.add(alloc_name(self.job_id, self.group, idx))
        return out

    def unset(self, idx: int) -> None:
        self.used.discard(idx)

    def next(self, n: int) -> list[str]:
        """``n`` names for new placements: free indexes below count first, then duplicates."""
        names: list[str] = []
        for idx in range(self.count):
            if len(names) == n:
                return names
            if idx not in self.used:
                self.used.add(idx)
                names.append(alloc_name(self.job_id, self.group, idx))
        idx = 0
        while len(names) < n:
            names.append(alloc_name(self.job_id, self.group, idx))
            idx += 1
        return names
