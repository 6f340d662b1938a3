"""The generic scheduler's update function: ignore, update in place, or replace an allocation.

An alloc of an unchanged job version is ignored; a destructive change (updates.py) or a node
that no longer fits the job replaces it; otherwise the stack re-checks the alloc's own node
with the alloc discounted, and on success the alloc is updated in place, keeping its ports.
"""

from __future__ import annotations

import fnmatch

import msgspec

from nomadic.structs import AllocatedResources, AllocatedSharedResources, Allocation, Job, TaskGroup

from .context import EvalContext
from .reconcile import ALLOC_IN_PLACE, AllocUpdateFn
from .stack import SelectOptions, Stack
from .updates import tasks_updated

__all__ = ["generic_alloc_update_fn", "pop_update"]


def pop_update(ctx: EvalContext, alloc: Allocation) -> None:
    """Undo a stop of ``alloc`` staged in the plan."""
    staged = ctx.plan.node_update.get(alloc.node_id)
    if not staged:
        return
    staged[:] = [a for a in staged if a.id != alloc.id]
    if not staged:
        del ctx.plan.node_update[alloc.node_id]


def generic_alloc_update_fn(ctx: EvalContext, stack: Stack, eval_id: str) -> AllocUpdateFn:
    def update(
        existing: Allocation, job: Job, tg: TaskGroup
    ) -> tuple[bool, bool, Allocation | None]:
        old_job = existing.job
        if old_job is None:
            return True, False, None  # nothing to compare with: leave the alloc alone
        if old_job.job_modify_index == job.job_modify_index and old_job.version == job.version:
            return True, False, None
        if tasks_updated(old_job, job, tg.name):
            return False, True, None
        if existing.terminal():
            return True, False, None
        node = ctx.state.node_by_id(existing.node_id)
        if node is None:
            return False, True, None
        if not any(fnmatch.fnmatchcase(node.datacenter, dc) for dc in job.datacenters):
            return False, True, None
        if node.node_pool != job.node_pool and job.node_pool != "all":
            return False, True, None
        stack.set_nodes([node])
        # Discount the alloc itself while checking the node still fits the group.
        stopping = msgspec.structs.replace(
            existing, desired_status="stop", desired_description=ALLOC_IN_PLACE
        )
        ctx.plan.append_stopped_alloc(stopping)
        option = stack.select(tg, SelectOptions(alloc_name=existing.name))
        pop_update(ctx, existing)
        if option is None:
            return False, True, None
        old = existing.allocated_resources
        tasks = {}
        for name, res in option.task_resources.items():
            prev = old.tasks.get(name)
            tasks[name] = msgspec.structs.replace(res, networks=prev.networks if prev else [])
        resources = AllocatedResources(
            tasks=tasks,
            shared=AllocatedSharedResources(
                disk_mb=tg.ephemeral_disk.size_mb,
                ports=list(old.shared.ports),
                networks=list(old.shared.networks),
            ),
        )
        updated = msgspec.structs.replace(
            existing, eval_id=eval_id, job=job, allocated_resources=resources
        )
        return False, False, updated

    return update
