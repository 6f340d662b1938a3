"""Job diffs (``job plan``): types, fields, objects, groups and tasks, and their annotations."""

from __future__ import annotations

import msgspec

from nomadic.scheduler.annotate import annotate
from nomadic.structs import Constraint, canonicalize, to_builtins
from nomadic.structs.diff import job_diff
from nomadic.testing.factories import mock_job


def _job(**kw: object):  # type: ignore[no-untyped-def]
    return canonicalize(mock_job(id="web", **kw))


def test_new_job_is_added_with_its_groups_and_tasks() -> None:
    diff = job_diff(None, _job())
    assert (diff.type, diff.id) == ("Added", "web")
    assert [(g.type, g.name) for g in diff.task_groups or []] == [("Added", "web")]
    assert any(f.name == "Priority" and f.new == "50" for f in diff.fields or [])


def test_identical_jobs_diff_to_none() -> None:
    job = _job()
    diff = job_diff(job, job)
    assert diff.type == "None"
    assert diff.fields is None and diff.objects is None
    assert [(g.type, [t.type for t in g.tasks or []]) for g in diff.task_groups or []] == [
        ("None", ["None"])
    ]


def test_edited_fields_objects_and_sets() -> None:
    old = _job()
    tg = old.task_groups[0]
    task = msgspec.structs.replace(tg.tasks[0], config={**tg.tasks[0].config, "image": "v2"})
    new = msgspec.structs.replace(
        old,
        priority=70,
        datacenters=["dc1", "dc2"],
        constraints=[*old.constraints, Constraint(l_target="${meta.rack}", r_target="r1")],
        task_groups=[msgspec.structs.replace(tg, count=tg.count - 1, tasks=[task])],
    )
    diff = job_diff(old, new)
    assert diff.type == "Edited"
    assert [(f.type, f.name, f.old, f.new) for f in diff.fields or []] == [
        ("Edited", "Priority", "50", "70")
    ]
    objects = {o.name: o for o in diff.objects or []}
    assert objects["Datacenters"].type == "Edited"
    assert [(f.type, f.new) for f in objects["Datacenters"].fields or [] if f.type != "None"] == [
        ("Added", "dc2")
    ]
    assert objects["Constraint"].type == "Added"
    group = (diff.task_groups or [])[0]
    annotate(diff, {"web": {"Stop": 1, "InPlaceUpdate": 0, "DestructiveUpdate": 9}})
    assert group.updates == {"destroy": 1, "create/destroy update": 9}
    count = next(f for f in group.fields or [] if f.name == "Count")
    assert count.annotations == ["forces destroy"]
    (task_diff,) = group.tasks or []
    assert task_diff.annotations == ["forces create/destroy update"]
    (config,) = task_diff.objects or []
    assert config.name == "Config"
    assert [(f.type, f.name) for f in config.fields or []] == [
        ("None", "command"),
        ("Added", "image"),
    ]


def test_kill_timeout_alone_is_an_in_place_update() -> None:
    old = _job()
    tg = old.task_groups[0]
    task = msgspec.structs.replace(tg.tasks[0], kill_timeout=tg.tasks[0].kill_timeout + 1)
    new = msgspec.structs.replace(old, task_groups=[msgspec.structs.replace(tg, tasks=[task])])
    diff = job_diff(old, new)
    annotate(diff, None)
    assert (diff.task_groups or [])[0].tasks[0].annotations == ["forces in-place update"]  # type: ignore[index]


def test_diff_json_uses_nomads_names() -> None:
    data = to_builtins(job_diff(None, _job()))
    assert set(data) == {"Type", "ID", "Fields", "Objects", "TaskGroups"}
    assert set(data["TaskGroups"][0]) == {"Type", "Name", "Fields", "Objects", "Tasks", "Updates"}
