"""Which job changes need new allocations (destructive) and which apply in place.

Nomad's ``tasksUpdated`` (``scheduler/util.go``): anything the client cannot change under a
running task (driver, config, env, resources, ports, disk, artifacts, templates, combined
meta ...) is destructive; everything else (count, constraints, update and reschedule
policies, service tags and checks ...) is applied in place. Named ``updates`` rather than
Nomad's ``util`` because that is all it holds.
"""

from __future__ import annotations

from nomadic.structs import Job, NetworkResource, Task, TaskGroup

__all__ = ["tasks_updated"]


def tasks_updated(old_job: Job, new_job: Job, group: str) -> bool:
    """True when group ``group`` changed in a way running allocations cannot absorb."""
    a = old_job.lookup_task_group(group)
    b = new_job.lookup_task_group(group)
    if a is None or b is None:
        return True
    if _group_updated(a, b):
        return True
    for task_a in a.tasks:
        task_b = b.lookup_task(task_a.name)
        if task_b is None:
            return True
        if _task_updated(old_job, a, task_a, new_job, b, task_b):
            return True
    return False


def _group_updated(a: TaskGroup, b: TaskGroup) -> bool:
    if len(a.tasks) != len(b.tasks):
        return True
    if a.ephemeral_disk != b.ephemeral_disk:
        return True
    if _networks_updated(a.networks, b.networks):
        return True
    render_a = a.restart_policy.render_templates if a.restart_policy else False
    render_b = b.restart_policy.render_templates if b.restart_policy else False
    return render_a != render_b


def _networks_updated(a: list[NetworkResource], b: list[NetworkResource]) -> bool:
    if len(a) != len(b):
        return True
    for na, nb in zip(a, b, strict=True):
        if na.mode != nb.mode or na.mbits != nb.mbits:
            return True
        if [(p.label, p.value, p.to, p.host_network) for p in na.reserved_ports] != [
            (p.label, p.value, p.to, p.host_network) for p in nb.reserved_ports
        ]:
            return True
        if [(p.label, p.to, p.host_network) for p in na.dynamic_ports] != [
            (p.label, p.to, p.host_network) for p in nb.dynamic_ports
        ]:
            return True
    return False


def _task_updated(
    job_a: Job, tg_a: TaskGroup, a: Task, job_b: Job, tg_b: TaskGroup, b: Task
) -> bool:
    if (a.driver, a.user, a.config, a.env) != (b.driver, b.user, b.config, b.env):
        return True
    if a.artifacts != b.artifacts or a.templates != b.templates:
        return True
    if a.dispatch_payload != b.dispatch_payload or a.lifecycle != b.lifecycle:
        return True
    if a.log_config.disabled != b.log_config.disabled:
        return True
    if {**job_a.meta, **tg_a.meta, **a.meta} != {**job_b.meta, **tg_b.meta, **b.meta}:
        return True
    ra, rb = a.resources, b.resources
    if (ra.cpu, ra.memory_mb, ra.memory_max_mb, ra.cores) != (
        rb.cpu,
        rb.memory_mb,
        rb.memory_max_mb,
        rb.cores,
    ):
        return True
    if ra.devices != rb.devices:
        return True
    return _networks_updated(ra.networks, rb.networks)
