"""Nomad's server-side defaults (``Canonicalize``) and job validation.

Defaults follow ``../shared/reference/nomad.md`` §1.9: restart 2/30m/15s for service and system,
3/24h/15s for batch and sysbatch; reschedule unlimited exponential 30s..1h for service, one
attempt per 24h with a 5s constant delay for batch, none for system jobs.
"""

from __future__ import annotations

import copy
import re

from .consts import (
    HOUR,
    JOB_TYPE_BATCH,
    JOB_TYPE_SERVICE,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
    JOB_TYPES,
    MINUTE,
    SECOND,
)
from .job import Job, ReschedulePolicy, RestartPolicy, Service, Task, TaskGroup
from .jobextras import ScalingPolicy
from .periodic import periodic_errors

DEFAULT_KILL_TIMEOUT = 5 * SECOND
MAX_COUNT_PER_GROUP = 50_000
LIFECYCLE_HOOKS = ("prestart", "poststart", "poststop")
_VALID_ID = re.compile(r"^[^\s\x00/]+$")


def default_restart_policy(job_type: str) -> RestartPolicy:
    if job_type in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH):
        return RestartPolicy(attempts=3, interval=24 * HOUR, delay=15 * SECOND, mode="fail")
    return RestartPolicy(attempts=2, interval=30 * MINUTE, delay=15 * SECOND, mode="fail")


def default_reschedule_policy(job_type: str) -> ReschedulePolicy | None:
    if job_type == JOB_TYPE_SERVICE:
        return ReschedulePolicy(
            delay=30 * SECOND, delay_function="exponential", max_delay=HOUR, unlimited=True
        )
    if job_type == JOB_TYPE_BATCH:
        return ReschedulePolicy(
            attempts=1, interval=24 * HOUR, delay=5 * SECOND, delay_function="constant"
        )
    return None


def canonicalize(job: Job) -> Job:
    """Return a copy of ``job`` with every default Nomad's server would fill."""
    job = copy.deepcopy(job)
    if not job.name:
        job.name = job.id
    if not job.datacenters:
        job.datacenters = ["*"]
    for tg in job.task_groups:
        _canonicalize_group(job, tg)
    return job


def _canonicalize_group(job: Job, tg: TaskGroup) -> None:
    if tg.restart_policy is None:
        tg.restart_policy = default_restart_policy(job.type)
    if tg.reschedule_policy is None:
        tg.reschedule_policy = job.reschedule or default_reschedule_policy(job.type)
    if tg.update is None and job.update is not None and job.type == JOB_TYPE_SERVICE:
        tg.update = copy.deepcopy(job.update)
    if tg.disconnect is not None:
        if tg.disconnect.replace is None:
            tg.disconnect.replace = True
        tg.disconnect.reconcile = tg.disconnect.reconcile or "best_score"
    if tg.scaling is not None:
        _canonicalize_scaling(tg.scaling, tg.count, job, tg, None)
    for service in tg.services:
        _canonicalize_service(service, f"{job.name}-{tg.name}")
    for task in tg.tasks:
        _canonicalize_task(job, tg, task)


def _canonicalize_task(job: Job, tg: TaskGroup, task: Task) -> None:
    if task.restart_policy is None:
        task.restart_policy = copy.deepcopy(tg.restart_policy)
    if task.kill_timeout <= 0:
        task.kill_timeout = DEFAULT_KILL_TIMEOUT
    if task.vault is not None:
        if task.vault.env is None:
            task.vault.env = True
        task.vault.change_mode = task.vault.change_mode or "restart"
    for artifact in task.artifacts:
        artifact.relative_dest = artifact.relative_dest or "local/"
    if task.csi_plugin_config is not None and task.csi_plugin_config.health_timeout <= 0:
        task.csi_plugin_config.health_timeout = 30 * SECOND
    for policy in task.scaling_policies:
        _canonicalize_scaling(policy, 0, job, tg, task)
    for service in task.services:
        _canonicalize_service(service, f"{job.name}-{tg.name}-{task.name}")


def _canonicalize_scaling(
    policy: ScalingPolicy, count: int, job: Job, tg: TaskGroup, task: Task | None
) -> None:
    """Nomad's ScalingPolicy defaults: enabled, min = the group's count, and the target."""
    if policy.enabled is None:
        policy.enabled = True
    if policy.min is None and task is None:
        policy.min = count
    policy.type = policy.type or "horizontal"
    target = {"Namespace": job.namespace, "Job": job.id, "Group": tg.name}
    if task is not None:
        target["Task"] = task.name
    policy.target = {**target, **policy.target}


def _canonicalize_service(service: Service, default_name: str) -> None:
    """api.Service.Canonicalize: a name from job/group/task, the Consul provider, and
    ``on_update`` inherited by checks."""
    service.name = service.name or default_name
    service.provider = service.provider or "consul"
    service.on_update = service.on_update or "require_healthy"
    for check in service.checks:
        check.on_update = check.on_update or service.on_update


def validate(job: Job) -> list[str]:
    """Every problem with ``job``, each naming where it is; empty when the job is valid."""
    errors: list[str] = []
    if not job.id:
        errors.append("job: missing job ID")
    elif not _VALID_ID.match(job.id) and not (job.parent_id and "/" in job.id):
        # (children of periodic and parameterized jobs are "<parent>/periodic-<time>")
        errors.append(f"job {job.id!r}: ID must not contain spaces, slashes or NUL")
    if job.type not in JOB_TYPES:
        errors.append(
            f"job {job.id!r}: invalid type {job.type!r}; use one of {', '.join(JOB_TYPES)}"
        )
    if not 1 <= job.priority <= 100:
        errors.append(f"job {job.id!r}: priority {job.priority} must be between 1 and 100")
    if not job.task_groups:
        errors.append(f"job {job.id!r}: missing a task group (add a group block)")
    errors += _validate_batch_kinds(job)
    seen: set[str] = set()
    for i, tg in enumerate(job.task_groups):
        where = f"group {tg.name!r}" if tg.name else f"group {i + 1}"
        if not tg.name:
            errors.append(f"{where}: missing a name")
        elif tg.name in seen:
            errors.append(f"{where}: duplicate group name")
        seen.add(tg.name)
        errors += _validate_group(job, tg, where)
    return errors


def _validate_group(job: Job, tg: TaskGroup, where: str) -> list[str]:
    errors: list[str] = []
    if tg.count < 0:
        errors.append(f"{where}: count {tg.count} must not be negative")
    if tg.count > MAX_COUNT_PER_GROUP:
        errors.append(f"{where}: count {tg.count} exceeds the maximum {MAX_COUNT_PER_GROUP}")
    if job.type in (JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH) and tg.count > 1:
        errors.append(f"{where}: {job.type} jobs run one per node; count must be 0 or 1")
    if not tg.tasks:
        errors.append(f"{where}: missing a task (add a task block)")
    rp = tg.restart_policy
    if rp is not None:
        if rp.mode not in ("fail", "delay"):
            errors.append(f'{where}: restart mode {rp.mode!r} must be "fail" or "delay"')
        if rp.attempts > 0 and rp.interval and rp.attempts * rp.delay > rp.interval:
            errors.append(
                f"{where}: restart attempts x delay must not exceed interval "
                f"({rp.attempts} x {rp.delay / SECOND:g}s > {rp.interval / SECOND:g}s)"
            )
    labels: set[str] = set()
    for net in tg.networks:
        for port in net.reserved_ports + net.dynamic_ports:
            if port.label in labels:
                errors.append(f"{where}: duplicate port label {port.label!r}")
            labels.add(port.label)
            if port.value and not 0 < port.value < 65536:
                errors.append(f"{where}: port {port.label!r} value {port.value} out of range")
    errors += _validate_group_extras(tg, where)
    names: set[str] = set()
    for task in tg.tasks:
        twhere = f"task {task.name!r} in {where}"
        if not task.name:
            errors.append(f"{where}: task missing a name")
        elif task.name in names:
            errors.append(f"{twhere}: duplicate task name")
        names.add(task.name)
        if not task.driver:
            errors.append(f"{twhere}: missing a driver")
        if task.resources.cpu < 1 and task.resources.cores == 0:
            errors.append(f"{twhere}: resources cpu must be at least 1 MHz")
        errors += _validate_task_lifecycle(task, twhere)
        if task.resources.memory_mb < 10:
            errors.append(f"{twhere}: resources memory must be at least 10 MB")
        errors += _validate_task_extras(tg, task, twhere)
    return errors


def _validate_group_extras(tg: TaskGroup, where: str) -> list[str]:
    errors: list[str] = []
    scaling = tg.scaling
    if scaling is not None and scaling.max is not None:
        low = scaling.min if scaling.min is not None else tg.count
        if low > scaling.max:
            errors.append(f"{where}: scaling min {low} is greater than max {scaling.max}")
        elif not low <= tg.count <= scaling.max:
            errors.append(
                f"{where}: count {tg.count} is outside the scaling range {low}..{scaling.max}"
            )
    if tg.disconnect is not None and (
        tg.max_client_disconnect is not None or tg.stop_after_client_disconnect is not None
    ):
        errors.append(
            f"{where}: use the disconnect block or max_client_disconnect/"
            "stop_after_client_disconnect, not both"
        )
    for name, volume in tg.volumes.items():
        if volume.type not in ("host", "csi"):
            errors.append(f"{where}: volume {name!r} has invalid type {volume.type!r}")
        if not volume.source:
            errors.append(f"{where}: volume {name!r} needs a source")
    return errors


def _validate_batch_kinds(job: Job) -> list[str]:
    """The periodic and parameterized blocks (Nomad's PeriodicConfig/ParameterizedJobConfig)."""
    errors: list[str] = []
    where = f"job {job.id!r}"
    batchy = job.type in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH)
    if job.periodic is not None:
        if not batchy:
            errors.append(
                f'{where}: periodic can only be used with "batch" or "sysbatch" jobs, '
                f"not {job.type!r}"
            )
        errors += periodic_errors(job.periodic, f"periodic in {where}")
    pj = job.parameterized_job
    if pj is not None:
        if not batchy:
            errors.append(
                f'{where}: parameterized can only be used with "batch" or "sysbatch" jobs, '
                f"not {job.type!r}"
            )
        if pj.payload not in ("optional", "required", "forbidden"):
            errors.append(
                f"parameterized in {where}: invalid payload {pj.payload!r}; "
                'use "optional", "required" or "forbidden"'
            )
        both = sorted(set(pj.meta_required) & set(pj.meta_optional))
        if both:
            errors.append(
                f"parameterized in {where}: meta keys {', '.join(both)} are both required "
                "and optional; list each key in only one of meta_required and meta_optional"
            )
    return errors


def _validate_task_lifecycle(task: Task, where: str) -> list[str]:
    errors: list[str] = []
    hook = task.lifecycle.hook if task.lifecycle is not None else ""
    if task.lifecycle is not None and hook not in LIFECYCLE_HOOKS:
        errors.append(
            f"lifecycle in {where}: invalid hook {hook!r}; "
            'use "prestart", "poststart" or "poststop"'
        )
    if task.dispatch_payload is not None:
        name = task.dispatch_payload.file
        if not name or name.startswith("/") or ".." in name.split("/"):
            errors.append(
                f"dispatch_payload in {where}: file {name!r} must be a relative path inside "
                "the task's local/ directory"
            )
    return errors


def _validate_task_extras(tg: TaskGroup, task: Task, where: str) -> list[str]:
    errors: list[str] = []
    for mount in task.volume_mounts:
        if mount.volume not in tg.volumes:
            errors.append(
                f"{where}: volume_mount refers to volume {mount.volume!r}, which the group "
                "does not declare (add a volume block to the group)"
            )
    destinations: set[str] = set()
    for i, tmpl in enumerate(task.templates):
        twhere = f"{where}: template {i + 1}"
        if not tmpl.dest_path:
            errors.append(f"{twhere}: missing a destination")
        elif tmpl.dest_path in destinations:
            errors.append(f"{twhere}: destination {tmpl.dest_path!r} is used twice")
        destinations.add(tmpl.dest_path)
        if not tmpl.embedded_tmpl and not tmpl.source_path:
            errors.append(f"{twhere}: needs data or source")
        if tmpl.change_mode == "signal" and not tmpl.change_signal:
            errors.append(f'{twhere}: change_mode "signal" needs a change_signal')
        if tmpl.change_mode == "script" and (
            tmpl.change_script is None or not tmpl.change_script.command
        ):
            errors.append(f'{twhere}: change_mode "script" needs a change_script with a command')
    for artifact in task.artifacts:
        if not artifact.getter_source:
            errors.append(f"{where}: artifact missing a source")
    return errors


def warnings(job: Job) -> list[str]:
    """What the job asks for that nomadic keeps but does not act on (register and validate
    return these as Nomad's ``Warnings``, so a user is not silently surprised)."""
    found: list[str] = []
    for tg in job.task_groups:
        csi = sorted(name for name, v in tg.volumes.items() if v.type == "csi")
        if csi:
            found.append(
                f"group {tg.name!r}: CSI volumes ({', '.join(csi)}) are kept, but nomadic runs "
                "no CSI plugins: they are not mounted (host volumes are)"
            )
        for task in tg.tasks:
            where = f"task {task.name!r} in group {tg.name!r}"
            if task.vault is not None:
                found.append(f"{where}: nomadic has no Vault integration; vault is ignored")
            if task.csi_plugin_config is not None:
                found.append(f"{where}: csi_plugin is kept, but nomadic does not run CSI plugins")
    return found


def format_warnings(found: list[str]) -> str:
    """Nomad's multierror text: ``1 warning occurred:\n\t* ...``; empty when none."""
    if not found:
        return ""
    noun = "warning" if len(found) == 1 else "warnings"
    return f"{len(found)} {noun} occurred:\n" + "".join(f"\t* {w}\n" for w in found)
