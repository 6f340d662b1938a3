"""The policy blocks: ``restart``, ``reschedule``, ``update``, ``migrate``, ``ephemeral_disk``.

Nomad keeps every field of these blocks optional and merges a partial block over its parent
(job over defaults, group over job, task over group). Our structs cannot say "unset", so the
merge happens here, while we still know which fields the file set: a partial block is
completed from ``base`` (the enclosing level's policy, or Nomad's defaults for the job type).
An absent block stays ``None`` for :func:`nomadic.structs.canonicalize` to fill.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

import msgspec

from nomadic.structs import (
    EphemeralDisk,
    MigrateStrategy,
    ReschedulePolicy,
    RestartPolicy,
    UpdateStrategy,
)
from nomadic.structs.consts import MINUTE, SECOND

from .expressions import Evaluator
from .reader import BlockReader
from .syntax import Block

__all__ = [
    "DEFAULT_MIGRATE",
    "DEFAULT_UPDATE",
    "decode_ephemeral_disk",
    "decode_migrate",
    "decode_reschedule",
    "decode_restart",
    "decode_update",
]

S = TypeVar("S", bound=msgspec.Struct)

# structs.DefaultUpdateStrategy and DefaultMigrateStrategy (reference/nomad.md §1.9).
DEFAULT_UPDATE = UpdateStrategy(
    stagger=30 * SECOND,
    max_parallel=1,
    health_check="checks",
    min_healthy_time=10 * SECOND,
    healthy_deadline=5 * MINUTE,
    progress_deadline=10 * MINUTE,
)
DEFAULT_MIGRATE = MigrateStrategy(
    max_parallel=1, health_check="checks", min_healthy_time=10 * SECOND, healthy_deadline=5 * MINUTE
)

# field name on the struct -> (attribute name in HCL, kind)
_Fields = dict[str, tuple[str, str]]
_RESTART: _Fields = {
    "attempts": ("attempts", "int"),
    "interval": ("interval", "duration"),
    "delay": ("delay", "duration"),
    "mode": ("mode", "str"),
    "render_templates": ("render_templates", "bool"),
}
_RESCHEDULE: _Fields = {
    "attempts": ("attempts", "int"),
    "interval": ("interval", "duration"),
    "delay": ("delay", "duration"),
    "delay_function": ("delay_function", "str"),
    "max_delay": ("max_delay", "duration"),
    "unlimited": ("unlimited", "bool"),
}
_UPDATE: _Fields = {
    "stagger": ("stagger", "duration"),
    "max_parallel": ("max_parallel", "int"),
    "health_check": ("health_check", "str"),
    "min_healthy_time": ("min_healthy_time", "duration"),
    "healthy_deadline": ("healthy_deadline", "duration"),
    "progress_deadline": ("progress_deadline", "duration"),
    "auto_revert": ("auto_revert", "bool"),
    "auto_promote": ("auto_promote", "bool"),
    "canary": ("canary", "int"),
}
_MIGRATE: _Fields = {
    k: _UPDATE[k] for k in ("max_parallel", "health_check", "min_healthy_time", "healthy_deadline")
}
_DISK: _Fields = {
    "size_mb": ("size", "int"),
    "sticky": ("sticky", "bool"),
    "migrate": ("migrate", "bool"),
}


def _merge(ev: Evaluator, block: Block, where: str, base: S, fields: _Fields) -> S:
    reader = BlockReader.of(
        ev, block, f"{block.type} in {where}", attrs=[a for a, _ in fields.values()]
    )
    reader.no_labels(block)
    result = copy.deepcopy(base)
    for field, (attr, kind) in fields.items():
        if not reader.has(attr):
            continue
        value: Any
        if kind == "int":
            value = reader.integer(attr)
        elif kind == "duration":
            value = reader.duration(attr)
        elif kind == "bool":
            value = reader.boolean(attr)
        else:
            value = reader.string(attr)
        setattr(result, field, value)
    return result


def decode_restart(
    ev: Evaluator, block: Block | None, where: str, base: RestartPolicy
) -> RestartPolicy | None:
    return None if block is None else _merge(ev, block, where, base, _RESTART)


def decode_reschedule(
    ev: Evaluator, block: Block | None, where: str, base: ReschedulePolicy
) -> ReschedulePolicy | None:
    return None if block is None else _merge(ev, block, where, base, _RESCHEDULE)


def decode_update(
    ev: Evaluator, block: Block | None, where: str, base: UpdateStrategy
) -> UpdateStrategy | None:
    return None if block is None else _merge(ev, block, where, base, _UPDATE)


def decode_migrate(
    ev: Evaluator, block: Block | None, where: str, base: MigrateStrategy
) -> MigrateStrategy | None:
    return None if block is None else _merge(ev, block, where, base, _MIGRATE)


def decode_ephemeral_disk(ev: Evaluator, block: Block | None, where: str) -> EphemeralDisk:
    return EphemeralDisk() if block is None else _merge(ev, block, where, EphemeralDisk(), _DISK)
