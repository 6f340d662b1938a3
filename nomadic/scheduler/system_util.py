"""The system reconciler: which (node, group) allocations to place, update, stop or keep.

Nomad's ``diffSystemAllocs``. A system or sysbatch job wants one allocation of each group
(``job.group[0]``) on every ready node of its datacenters and node pool. For each node:

    existing alloc, group gone or job stopped      -> stop
    marked for migration (drainer) and not done    -> migrate (stop; the node takes no more)
    sysbatch and terminal                          -> ignore (ran; not run again)
    on a tainted node: sysbatch that succeeded     -> ignore
                       node down or gone           -> lost
                       node draining               -> ignore (the drainer decides)
    on an ineligible node                          -> ignore (keeps running, gets nothing new)
    node no longer targeted (dc, pool, not ready)  -> stop
    job changed (JobModifyIndex)                   -> update (in place or destructive)
    otherwise                                      -> ignore
    missing on a ready node                        -> place; but sysbatch with a terminal
        alloc there: ignore if the job is unchanged, else update (run the new version once)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nomadic.structs import Allocation, Job, Node, TaskGroup
from nomadic.structs.consts import JOB_TYPE_SYSBATCH, NODE_STATUS_DISCONNECTED, NODE_STATUS_DOWN

from .allocset import alloc_name
from .reschedule import ran_successfully

__all__ = ["AllocTuple", "SystemDiff", "diff_system_allocs", "materialize_task_groups"]


@dataclass
class AllocTuple:
    """A group instance on a node; ``alloc`` is the existing (or previous terminal) one."""

    name: str
    task_group: TaskGroup
    node_id: str
    alloc: Allocation | None = None


@dataclass
class SystemDiff:
    place: list[AllocTuple] = field(default_factory=list)
    update: list[AllocTuple] = field(default_factory=list)
    migrate: list[AllocTuple] = field(default_factory=list)
    stop: list[AllocTuple] = field(default_factory=list)
    ignore: list[AllocTuple] = field(default_factory=list)
    lost: list[AllocTuple] = field(default_factory=list)


def materialize_task_groups(job: Job | None) -> dict[str, TaskGroup]:
    """Alloc name -> group for every instance the job wants on each node (count 0 or 1)."""
    if job is None or job.stop:
        return {}
    out: dict[str, TaskGroup] = {}
    for tg in job.task_groups:
        for i in range(tg.count):
            out[alloc_name(job.id, tg.name, i)] = tg
    return out


def diff_system_allocs(
    job: Job | None,
    ready_nodes: list[Node],
    not_ready: set[str],
    tainted: dict[str, Node | None],
    live: list[Allocation],
    terminal: list[Allocation],
) -> SystemDiff:
    """Diff what ``job`` requires on ``ready_nodes`` against its ``live`` allocations."""
    by_node: dict[str, list[Allocation]] = {}
    for alloc in live:
        by_node.setdefault(alloc.node_id, []).append(alloc)
    eligible = {n.id for n in ready_nodes}
    for node_id in eligible:
        by_node.setdefault(node_id, [])
    last_terminal: dict[tuple[str, str], Allocation] = {}
    for alloc in sorted(terminal, key=lambda a: a.create_index):
        last_terminal[(alloc.node_id, alloc.name)] = alloc
    required = materialize_task_groups(job)
    diff = SystemDiff()
    for node_id in sorted(by_node):
        _diff_node(
            diff, job, node_id, eligible, not_ready, tainted, required, by_node[node_id],
            last_terminal,
        )  # fmt: skip
    return diff


def _diff_node(
    diff: SystemDiff,
    job: Job | None,
    node_id: str,
    eligible: set[str],
    not_ready: set[str],
    tainted: dict[str, Node | None],
    required: dict[str, TaskGroup],
    allocs: list[Allocation],
    last_terminal: dict[tuple[str, str], Allocation],
) -> None:
    existing: set[str] = set()
    sysbatch = job is not None and job.type == JOB_TYPE_SYSBATCH
    for alloc in allocs:
        existing.add(alloc.name)
        tg = required.get(alloc.name)
        if tg is None or job is None:
            diff.stop.append(AllocTuple(alloc.name, _group_of(alloc), node_id, alloc))
            continue
        item = AllocTuple(alloc.name, tg, node_id, alloc)
        if not alloc.terminal() and alloc.desired_transition.migrate:
            diff.migrate.append(item)
        elif sysbatch and alloc.terminal():
            diff.ignore.append(item)
        elif node_id in tainted:
            node = tainted[node_id]
            if sysbatch and ran_successfully(alloc):
                diff.ignore.append(item)
            elif node is None or node.status in (NODE_STATUS_DOWN, NODE_STATUS_DISCONNECTED):
                diff.lost.append(item)
            else:
                diff.ignore.append(item)
        elif node_id in not_ready:
            diff.ignore.append(item)
        elif node_id not in eligible:
            diff.stop.append(item)
        elif alloc.job is not None and job.job_modify_index != alloc.job.job_modify_index:
            diff.update.append(item)
        else:
            diff.ignore.append(item)
    for name, tg in sorted(required.items()):
        if name in existing:
            continue
        done = last_terminal.get((node_id, name))
        if sysbatch and done is not None and job is not None:
            same = done.job is not None and done.job.job_modify_index == job.job_modify_index
            rerun = not same and node_id in eligible and node_id not in tainted
            (diff.update if rerun else diff.ignore).append(AllocTuple(name, tg, node_id, done))
            continue
        if node_id in tainted or node_id not in eligible:
            continue
        diff.place.append(AllocTuple(name, tg, node_id, done))


def _group_of(alloc: Allocation) -> TaskGroup:
    """The alloc's own group definition (from the job version it runs), for stop results."""
    if alloc.job is not None:
        tg = alloc.job.lookup_task_group(alloc.task_group)
        if tg is not None:
            return tg
    return TaskGroup(name=alloc.task_group)
