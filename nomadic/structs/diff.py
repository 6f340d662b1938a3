"""Job diffs: what ``job plan`` shows between the registered job and the submitted one.

Nomad's ``nomad/structs/diff.go`` as data: a :class:`JobDiff` holds field diffs (primitive
values), object diffs (nested blocks, maps, sets) and one :class:`TaskGroupDiff` per group,
which holds one :class:`TaskDiff` per task. Every diff has a ``Type``: ``Added``, ``Deleted``,
``Edited`` or ``None``. Names are Nomad's JSON (PascalCase) names, values are strings, as
Nomad's flattened diffs are.

The diff is computed generically over the structs' JSON form rather than per field:

- primitive values -> ``FieldDiff`` named by the key;
- a list of primitives (``Datacenters``) -> one object whose fields are the set's members;
- a map or nested block (``Meta``, ``Config``, ``RestartPolicy``) -> one object with its
  values flattened (``args[0]``, ``a.b``), unchanged values shown as ``None`` for context;
- a list of blocks (``Constraints``) -> one object per member, named in the singular,
  matched by ``Name``/``Label`` when they have one and by equality otherwise.

Scheduler annotations ("forces create", the per-group update counts) are added afterwards by
``nomadic.scheduler.annotate``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .codec import Base, to_builtins
from .job import Job

__all__ = [
    "DIFF_ADDED",
    "DIFF_DELETED",
    "DIFF_EDITED",
    "DIFF_NONE",
    "FieldDiff",
    "JobDiff",
    "ObjectDiff",
    "TaskDiff",
    "TaskGroupDiff",
    "job_diff",
]

DIFF_ADDED = "Added"
DIFF_DELETED = "Deleted"
DIFF_EDITED = "Edited"
DIFF_NONE = "None"

# Server-managed job fields that are not part of the specification.
_JOB_IGNORED = frozenset(
    {
        "ID",
        "Status",
        "StatusDescription",
        "Version",
        "Stable",
        "CreateIndex",
        "ModifyIndex",
        "JobModifyIndex",
        "SubmitTime",
        "TaskGroups",
        "Update",
        "NomadTokenID",
        "VersionTag",
        "Payload",
    }
)
_GROUP_IGNORED = frozenset({"Name", "Tasks"})
_TASK_IGNORED = frozenset({"Name"})
_SINGULAR = {
    "Constraints": "Constraint",
    "Affinities": "Affinity",
    "Spreads": "Spread",
    "Services": "Service",
    "Checks": "Check",
    "Networks": "Network",
    "Artifacts": "Artifact",
    "Templates": "Template",
    "Devices": "Device",
    "Volumes": "Volume",
    "VolumeMounts": "VolumeMount",
    "ReservedPorts": "Static Port",
    "DynamicPorts": "Dynamic Port",
    "SpreadTarget": "SpreadTarget",
}


class FieldDiff(Base):
    type: str = DIFF_NONE
    name: str = ""
    old: str = ""
    new: str = ""
    annotations: list[str] | None = None


class ObjectDiff(Base):
    type: str = DIFF_NONE
    name: str = ""
    fields: list[FieldDiff] | None = None
    objects: list[ObjectDiff] | None = None


class TaskDiff(Base):
    type: str = DIFF_NONE
    name: str = ""
    fields: list[FieldDiff] | None = None
    objects: list[ObjectDiff] | None = None
    annotations: list[str] | None = None


class TaskGroupDiff(Base):
    type: str = DIFF_NONE
    name: str = ""
    fields: list[FieldDiff] | None = None
    objects: list[ObjectDiff] | None = None
    tasks: list[TaskDiff] | None = None
    updates: dict[str, int] | None = None


class JobDiff(Base):
    type: str = DIFF_NONE
    id: str = msgspec.field(default="", name="ID")
    fields: list[FieldDiff] | None = None
    objects: list[ObjectDiff] | None = None
    task_groups: list[TaskGroupDiff] | None = None


Data = dict[str, Any]


def job_diff(old: Job | None, new: Job | None) -> JobDiff:
    """The diff from ``old`` (the registered job, or None) to ``new`` (the submitted one)."""
    o: Data = to_builtins(old) if old is not None else {}
    n: Data = to_builtins(new) if new is not None else {}
    job_id = (new or old).id if (new or old) is not None else ""  # type: ignore[union-attr]
    fields, objects = _diff_block(o, n, _JOB_IGNORED, old is not None and new is not None)
    groups = _by_name(o.get("TaskGroups"), n.get("TaskGroups"))
    tg_diffs = [_group_diff(name, og, ng) for name, (og, ng) in groups.items()]
    kind = _kind(old is not None, new is not None, fields, objects, tg_diffs)
    return JobDiff(
        type=kind,
        id=job_id,
        fields=fields or None,
        objects=objects or None,
        task_groups=tg_diffs or None,
    )


def _group_diff(name: str, old: Data | None, new: Data | None) -> TaskGroupDiff:
    both = old is not None and new is not None
    fields, objects = _diff_block(old or {}, new or {}, _GROUP_IGNORED, both)
    tasks = _by_name((old or {}).get("Tasks"), (new or {}).get("Tasks"))
    task_diffs = [_task_diff(tname, ot, nt) for tname, (ot, nt) in tasks.items()]
    kind = _kind(old is not None, new is not None, fields, objects, task_diffs)
    return TaskGroupDiff(
        type=kind,
        name=name,
        fields=fields or None,
        objects=objects or None,
        tasks=task_diffs or None,
    )


def _task_diff(name: str, old: Data | None, new: Data | None) -> TaskDiff:
    both = old is not None and new is not None
    fields, objects = _diff_block(old or {}, new or {}, _TASK_IGNORED, both)
    kind = _kind(old is not None, new is not None, fields, objects, [])
    return TaskDiff(type=kind, name=name, fields=fields or None, objects=objects or None)


def _kind(had: bool, has: bool, fields: list[Any], objects: list[Any], subs: list[Any]) -> str:
    if not had and has:
        return DIFF_ADDED
    if had and not has:
        return DIFF_DELETED
    changed = [d for d in (*fields, *objects, *subs) if d.type != DIFF_NONE]
    return DIFF_EDITED if changed else DIFF_NONE


def _by_name(old: Any, new: Any) -> dict[str, tuple[Data | None, Data | None]]:
    """Pair list members by ``Name``, in the new list's order, deleted ones last."""
    olds = {m["Name"]: m for m in old or []}
    news = {m["Name"]: m for m in new or []}
    names = [*news, *(k for k in olds if k not in news)]
    return {k: (olds.get(k), news.get(k)) for k in names}


def _diff_block(
    old: Data, new: Data, ignored: frozenset[str], both: bool
) -> tuple[list[FieldDiff], list[ObjectDiff]]:
    """Fields and objects of one block; only changes unless ``both`` is False (add/delete)."""
    fields: list[FieldDiff] = []
    objects: list[ObjectDiff] = []
    for key in sorted({*old, *new} - ignored):
        ov, nv = old.get(key), new.get(key)
        if _is_primitive(ov) and _is_primitive(nv):
            f = _field(key, ov, nv, key in old, key in new)
            if f.type != DIFF_NONE or not both:
                fields.append(f)
            continue
        for obj in _object_diffs(key, ov, nv):
            if obj.type != DIFF_NONE:
                objects.append(obj)
    return _drop_empty_adds(fields), objects


def _drop_empty_adds(fields: list[FieldDiff]) -> list[FieldDiff]:
    """An added or deleted block lists its set values only, as Nomad's flatmap does."""
    return [f for f in fields if f.type == DIFF_EDITED or (f.old or f.new)]


def _object_diffs(key: str, old: Any, new: Any) -> list[ObjectDiff]:
    if _is_struct_list(old) and _is_struct_list(new):
        return _list_diffs(_SINGULAR.get(key, key), old or [], new or [])
    if _is_primitive_list(old) and _is_primitive_list(new):
        return [_set_diff(key, old or [], new or [])]
    return [_flat_object(key, old, new)]


def _list_diffs(name: str, old: list[Data], new: list[Data]) -> list[ObjectDiff]:
    keyed = all(_member_key(m) for m in (*old, *new))
    if keyed:
        olds = {_member_key(m): m for m in old}
        news = {_member_key(m): m for m in new}
        return [
            _flat_object(name, olds.get(k), news.get(k))
            for k in [*news, *(k for k in olds if k not in news)]
        ]
    out = [_flat_object(name, m, None) for m in old if m not in new]
    out += [_flat_object(name, None, m) for m in new if m not in old]
    return out


def _member_key(member: Data) -> str:
    for key in ("Name", "Label", "Value"):
        if isinstance(member.get(key), str) and member[key]:
            return str(member[key])
    return ""


def _set_diff(name: str, old: list[Any], new: list[Any]) -> ObjectDiff:
    olds, news = [_str(v) for v in old], [_str(v) for v in new]
    fields = [FieldDiff(type=DIFF_DELETED, name=name, old=v) for v in olds if v not in news]
    fields += [FieldDiff(type=DIFF_ADDED, name=name, new=v) for v in news if v not in olds]
    kept = [FieldDiff(type=DIFF_NONE, name=name, old=v, new=v) for v in news if v in olds]
    if not old:
        kind = DIFF_ADDED if new else DIFF_NONE
    elif not new:
        kind = DIFF_DELETED
    else:
        kind = DIFF_EDITED if fields else DIFF_NONE
    return ObjectDiff(type=kind, name=name, fields=(fields + kept) or None)


def _flat_object(name: str, old: Any, new: Any) -> ObjectDiff:
    """One nested value flattened to ``a.b`` / ``a[0]`` keys; unchanged keys for context."""
    of, nf = _flatten(old), _flatten(new)
    had, has = bool(of) or old not in (None, {}, []), bool(nf) or new not in (None, {}, [])
    fields = [_field(k, of.get(k), nf.get(k), k in of, k in nf) for k in sorted({*of, *nf})]
    fields = [f for f in fields if f.type != DIFF_NONE or (f.old or f.new)]
    if not had and has:
        kind = DIFF_ADDED
    elif had and not has:
        kind = DIFF_DELETED
    else:
        kind = DIFF_EDITED if any(f.type != DIFF_NONE for f in fields) else DIFF_NONE
    return ObjectDiff(type=kind, name=name, fields=fields or None)


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    elif value is not None and prefix:
        out[prefix] = _str(value)
    return out


def _field(name: str, old: Any, new: Any, had: bool, has: bool) -> FieldDiff:
    o, n = _str(old) if had else "", _str(new) if has else ""
    if o == n:
        return FieldDiff(type=DIFF_NONE, name=name, old=o, new=n)
    if not o:
        return FieldDiff(type=DIFF_ADDED, name=name, new=n)
    if not n:
        return FieldDiff(type=DIFF_DELETED, name=name, old=o)
    return FieldDiff(type=DIFF_EDITED, name=name, old=o, new=n)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_primitive(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_primitive_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(_is_primitive(v) for v in value))


def _is_struct_list(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value))
        or value == []
    )
