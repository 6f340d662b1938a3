"""Annotate a job diff with what the scheduler would do (Nomad's ``scheduler/annotate.go``).

``job plan`` shows, per task group, the counts of the scheduler's desired updates
("1 create, 2 in-place update") and, per task and count change, why ("forces create/destroy
update"). The counts come from the plan's ``DesiredTGUpdates``; the task annotations from the
diff itself, with Nomad's rule: any primitive task field but ``KillTimeout``, or any block but
services, constraints and log settings (other than ``Disabled``), forces a destructive update.
"""

from __future__ import annotations

from typing import Final

from nomadic.structs.diff import (
    DIFF_ADDED,
    DIFF_DELETED,
    DIFF_EDITED,
    DIFF_NONE,
    JobDiff,
    TaskDiff,
    TaskGroupDiff,
)

__all__ = [
    "ANNOTATION_FORCES_CREATE",
    "ANNOTATION_FORCES_DESTROY",
    "ANNOTATION_FORCES_DESTRUCTIVE_UPDATE",
    "ANNOTATION_FORCES_INPLACE_UPDATE",
    "annotate",
]

ANNOTATION_FORCES_CREATE: Final = "forces create"
ANNOTATION_FORCES_DESTROY: Final = "forces destroy"
ANNOTATION_FORCES_INPLACE_UPDATE: Final = "forces in-place update"
ANNOTATION_FORCES_DESTRUCTIVE_UPDATE: Final = "forces create/destroy update"

# DesiredTGUpdates key -> the update type job plan prints
_UPDATE_TYPES: Final = {
    "Ignore": "ignore",
    "Place": "create",
    "Stop": "destroy",
    "Migrate": "migrate",
    "Canary": "canary",
    "InPlaceUpdate": "in-place update",
    "DestructiveUpdate": "create/destroy update",
}
_INPLACE_OBJECTS: Final = frozenset({"Service", "Constraint"})


def annotate(diff: JobDiff, desired: dict[str, dict[str, int]] | None) -> None:
    """Add the update counts and forcing annotations to ``diff`` in place."""
    for tg in diff.task_groups or []:
        _annotate_group(tg, (desired or {}).get(tg.name))


def _annotate_group(tg: TaskGroupDiff, counts: dict[str, int] | None) -> None:
    if counts:
        updates = {_UPDATE_TYPES[k]: v for k, v in counts.items() if k in _UPDATE_TYPES and v}
        tg.updates = updates or None
    for f in tg.fields or []:
        if f.name == "Count" and f.type == DIFF_EDITED:
            grew = _int(f.new) > _int(f.old)
            f.annotations = [ANNOTATION_FORCES_CREATE if grew else ANNOTATION_FORCES_DESTROY]
    for task in tg.tasks or []:
        _annotate_task(task, tg)


def _annotate_task(task: TaskDiff, parent: TaskGroupDiff) -> None:
    if task.type == DIFF_NONE:
        return
    if parent.type in (DIFF_ADDED, DIFF_DELETED) or task.type in (DIFF_ADDED, DIFF_DELETED):
        if task.type == DIFF_ADDED:
            task.annotations = [ANNOTATION_FORCES_CREATE]
            return
        if task.type == DIFF_DELETED:
            task.annotations = [ANNOTATION_FORCES_DESTROY]
            return
    task.annotations = [
        ANNOTATION_FORCES_DESTRUCTIVE_UPDATE
        if _destructive(task)
        else ANNOTATION_FORCES_INPLACE_UPDATE
    ]


def _destructive(task: TaskDiff) -> bool:
    if any(f.name != "KillTimeout" for f in task.fields or []):
        return True
    for obj in task.objects or []:
        if obj.name in _INPLACE_OBJECTS:
            continue
        if obj.name == "LogConfig":
            if any(f.name == "Disabled" and f.type != DIFF_NONE for f in obj.fields or []):
                return True
            continue
        return True
    return False


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
