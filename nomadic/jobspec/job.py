"""The top of a job file: exactly one ``job "<id>"`` block, plus ``periodic`` and
``parameterized``; the job's groups are decoded by :mod:`nomadic.jobspec.group`.

Only what Nomad's parser fills is filled here (ID and Name default to the job label; periodic
``SpecType`` is ``cron``); server defaults are :func:`nomadic.structs.canonicalize`'s job.
"""

from __future__ import annotations

from nomadic.structs import (
    Job,
    ParameterizedJobConfig,
    PeriodicConfig,
    ReschedulePolicy,
    TaskGroup,
)
from nomadic.structs.canonicalize import default_reschedule_policy, default_restart_policy
from nomadic.structs.consts import JOB_TYPE_SERVICE

from .diagnostics import Span
from .expressions import Evaluator
from .group import GroupDefaults, decode_group, promote_task
from .integrations import decode_multiregion, decode_ui, decode_vault
from .placement import decode_affinities, decode_constraints, decode_spreads
from .policies import (
    DEFAULT_MIGRATE,
    DEFAULT_UPDATE,
    decode_migrate,
    decode_reschedule,
    decode_update,
)
from .reader import BlockReader
from .syntax import Block, Body

__all__ = ["decode_job", "find_job_block"]

_JOB_ATTRS = (
    "id",
    "name",
    "region",
    "namespace",
    "type",
    "priority",
    "all_at_once",
    "datacenters",
    "node_pool",
    "meta",
    "consul_namespace",
    "vault_namespace",
)
# Secrets a job file must not carry; Nomad ignores them too (workload identity replaced them).
_JOB_IGNORED_ATTRS = ("vault_token", "consul_token")
_JOB_BLOCKS = (
    "group",
    "task",
    "constraint",
    "affinity",
    "spread",
    "update",
    "migrate",
    "reschedule",
    "periodic",
    "parameterized",
    "meta",
    "ui",
    "multiregion",
    "vault",
)


def find_job_block(body: Body, span: Span) -> Block:
    """The one ``job`` block of a file; none or several is an error."""
    jobs = [b for b in body.blocks if b.type == "job"]
    if not jobs:
        raise span.error('no "job" block found; a job file needs exactly one job "<id>" { ... }')
    if len(jobs) > 1:
        raise jobs[1].span.error(
            f'duplicate "job" block; a job file holds exactly one job (the first is on line '
            f"{jobs[0].span.line})"
        )
    job = jobs[0]
    if len(job.labels) != 1 or not job.labels[0]:
        raise job.span.error('"job" block needs exactly one name label, e.g. job "example" { ... }')
    return job


def decode_job(ev: Evaluator, block: Block) -> Job:
    job_id = block.labels[0]
    where = f'job "{job_id}"'
    r = BlockReader.of(
        ev,
        block,
        where,
        attrs=_JOB_ATTRS,
        blocks=_JOB_BLOCKS,
        ignored_attrs=_JOB_IGNORED_ATTRS,
        ignored_blocks=("consul",),
    )
    job_type = r.string("type", JOB_TYPE_SERVICE)
    reschedule = decode_reschedule(
        ev, r.block("reschedule"), where, default_reschedule_policy(job_type) or ReschedulePolicy()
    )
    update = decode_update(ev, r.block("update"), where, DEFAULT_UPDATE)
    migrate = decode_migrate(ev, r.block("migrate"), where, DEFAULT_MIGRATE)
    defaults = GroupDefaults(
        restart=default_restart_policy(job_type),
        reschedule=reschedule or default_reschedule_policy(job_type) or ReschedulePolicy(),
        update=update or DEFAULT_UPDATE,
        migrate=migrate or DEFAULT_MIGRATE,
        vault=decode_vault(ev, r.block("vault"), where),
    )
    job = Job(
        id=r.string("id", job_id),
        name=r.string("name", job_id),
        type=job_type,
        priority=r.integer("priority", 50),
        all_at_once=r.boolean("all_at_once"),
        constraints=decode_constraints(ev, block.body, where),
        affinities=decode_affinities(ev, block.body, where),
        spreads=decode_spreads(ev, block.body, where),
        task_groups=_groups(ev, r, defaults),
        update=update,
        periodic=_periodic(ev, r.block("periodic"), where),
        parameterized_job=_parameterized(ev, r.block("parameterized"), where),
        reschedule=reschedule,
        migrate=migrate,
        meta=r.string_map_or_block("meta"),
        multiregion=decode_multiregion(ev, r.block("multiregion"), where),
        ui=decode_ui(ev, r.block("ui"), where),
        consul_namespace=r.string("consul_namespace"),
        vault_namespace=r.string("vault_namespace"),
    )
    for attr, field in (
        ("region", "region"),
        ("namespace", "namespace"),
        ("node_pool", "node_pool"),
    ):
        if r.has(attr):
            setattr(job, field, r.string(attr))
    if r.has("datacenters"):
        job.datacenters = r.strings("datacenters")
    return job


def _groups(ev: Evaluator, r: BlockReader, defaults: GroupDefaults) -> list[TaskGroup]:
    groups: list[TaskGroup] = []
    seen: dict[str, int] = {}
    for kind in ("group", "task"):
        for block, name in r.labelled(kind):
            if name in seen:
                raise block.span.error(
                    f'duplicate group "{name}" in {r.where} (first defined on line {seen[name]})'
                )
            seen[name] = block.span.line
            decode = decode_group if kind == "group" else promote_task
            groups.append(decode(ev, block, name, defaults))
    return groups


def _periodic(ev: Evaluator, block: Block | None, where: str) -> PeriodicConfig | None:
    if block is None:
        return None
    r = BlockReader.of(
        ev,
        block,
        f"periodic in {where}",
        attrs=("cron", "crons", "prohibit_overlap", "time_zone", "enabled"),
    )
    r.no_labels(block)
    if r.has("cron") and r.has("crons"):
        raise r.fail("crons", f'periodic in {where}: set "cron" or "crons", not both')
    if not r.has("cron") and not r.has("crons"):
        raise block.span.error(
            f'periodic in {where} needs a schedule: cron = "..." or crons = [...]'
        )
    return PeriodicConfig(
        enabled=r.boolean("enabled", True),
        spec=r.string("cron"),
        specs=r.strings("crons"),
        spec_type="cron",
        prohibit_overlap=r.boolean("prohibit_overlap"),
        time_zone=r.string("time_zone", "UTC"),
    )


def _parameterized(ev: Evaluator, block: Block | None, where: str) -> ParameterizedJobConfig | None:
    if block is None:
        return None
    r = BlockReader.of(
        ev, block, f"parameterized in {where}", attrs=("payload", "meta_required", "meta_optional")
    )
    r.no_labels(block)
    payload = r.string("payload", "optional")
    if payload not in ("optional", "required", "forbidden"):
        raise r.fail(
            "payload",
            f'invalid payload "{payload}" in parameterized; '
            'use "optional", "required" or "forbidden"',
        )
    return ParameterizedJobConfig(
        payload=payload,
        meta_required=r.strings("meta_required"),
        meta_optional=r.strings("meta_optional"),
    )
