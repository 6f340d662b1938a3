"""Text of ``job plan``: the job diff and the scheduler dry run, as Nomad's ``job_plan.go``.

+/- Job: "web"
+/- Task Group: "web" (1 create, 1 in-place update)
  +/- Count: "1" => "2" (forces create)
      Task: "server"

Scheduler dry-run:
- All tasks successfully allocated.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from nomadic.cli.monitor import format_alloc_metrics
from nomadic.cli.output import format_time, pretty_time_diff

if TYPE_CHECKING:
    from nomadic.structs import Job
    from nomadic.structs.diff import FieldDiff, JobDiff, ObjectDiff, TaskDiff, TaskGroupDiff
    from nomadic.structs.requests import JobPlanResponse

__all__ = ["JOB_MODIFY_INDEX_HELP", "format_dry_run", "format_job_diff", "plan_exit_code"]

JOB_MODIFY_INDEX_HELP = """To submit the job with version verification run:

nomadic job run -check-index {index} {path}

When running the job with the check-index flag, the job will only be run if the
job modify index given matches the server-side version. If the index has
changed, another user has modified the job and the plan's results are
potentially invalid."""


def _marker(kind: str) -> str:
    return {"Added": "+ ", "Deleted": "- ", "Edited": "+/- "}.get(kind, "")


def _longest(fields: list[FieldDiff], objects: list[ObjectDiff]) -> tuple[int, int]:
    longest_field = max((len(f.name) for f in fields), default=0)
    kinds = [f.type for f in fields] + [o.type for o in objects]
    longest_marker = max((len(_marker(k)) for k in kinds), default=0)
    return longest_field, longest_marker


def _field(diff: FieldDiff, start: int, key_pad: int, value_pad: int) -> str:
    head = f"{' ' * start}{_marker(diff.type)}{' ' * key_pad}{diff.name}: {' ' * value_pad}"
    if diff.type == "Added":
        value = _quote(diff.new)
    elif diff.type == "Deleted":
        value = _quote(diff.old)
    elif diff.type == "Edited":
        value = f"{_quote(diff.old)} => {_quote(diff.new)}"
    else:
        value = _quote(diff.new)
    if diff.annotations:
        value += f" ({', '.join(diff.annotations)})"
    return head + value


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _aligned(
    fields: list[FieldDiff], objects: list[ObjectDiff], start: int, lf: int, lm: int
) -> str:
    parts = [_field(f, start, lm - len(_marker(f.type)), lf - len(f.name)) for f in fields]
    parts += [_object(o, start, lm - len(_marker(o.type))) for o in objects]
    return "\n".join(parts)


def _object(diff: ObjectDiff, start: int, key_pad: int) -> str:
    marker = _marker(diff.type)
    head = f"{' ' * start}{marker}{' ' * key_pad}{diff.name} {{\n"
    fields, objects = diff.fields or [], diff.objects or []
    lf, lm = _longest(fields, objects)
    body = _aligned(fields, objects, start + key_pad + 2, lf, lm)
    return f"{head}{body}\n{' ' * (start + len(marker) + key_pad)}}}"


def format_job_diff(diff: JobDiff, verbose: bool) -> str:
    out = f'{_marker(diff.type)}Job: "{diff.id}"\n'
    fields, objects, groups = diff.fields or [], diff.objects or [], diff.task_groups or []
    lf, lm = _longest(fields, objects)
    lm = max([lm, *(len(_marker(g.type)) for g in groups)])
    if diff.type == "Edited" or verbose:
        fo = _aligned(fields, objects, 0, lf, lm)
        out += fo + ("\n" if fo else "")
    for tg in groups:
        out += _group(tg, lm - len(_marker(tg.type)), verbose) + "\n"
    return out


def _group(tg: TaskGroupDiff, pad: int, verbose: bool) -> str:
    out = f'{_marker(tg.type)}{" " * pad}Task Group: "{tg.name}"'
    if tg.updates:
        counts = ", ".join(f"{tg.updates[kind]} {kind}" for kind in sorted(tg.updates))
        out += f" ({counts})\n"
    else:
        out += "\n"
    fields, objects, tasks = tg.fields or [], tg.objects or [], tg.tasks or []
    lf, lm = _longest(fields, objects)
    lm = max([lm, *(len(_marker(t.type)) for t in tasks)])
    sub = pad + 2
    if tg.type == "Edited" or verbose:
        fo = _aligned(fields, objects, sub, lf, lm)
        out += fo + ("\n" if fo else "")
    for task in tasks:
        out += _task(task, sub, lm - len(_marker(task.type)), verbose) + "\n"
    return out


def _task(task: TaskDiff, start: int, pad: int, verbose: bool) -> str:
    out = f'{" " * start}{_marker(task.type)}{" " * pad}Task: "{task.name}"'
    if task.annotations:
        out += f" ({', '.join(task.annotations)})"
    if task.type == "None" or (task.type in ("Added", "Deleted") and not verbose):
        return out
    fields, objects = task.fields or [], task.objects or []
    lf, lm = _longest(fields, objects)
    return out + "\n" + _aligned(fields, objects, start + 2, lf, lm)


def format_dry_run(resp: JobPlanResponse, job: Job) -> str:
    rolling = next(
        (e for e in resp.created_evals or [] if e.triggered_by == "rolling-update"), None
    )
    if not resp.failed_tg_allocs:
        out = "- All tasks successfully allocated.\n"
    else:
        if job.type == "system":
            out = "- WARNING: Failed to place allocations on all nodes.\n"
        else:
            out = "- WARNING: Failed to place all allocations.\n"
        for tg in sorted(resp.failed_tg_allocs):
            metrics = resp.failed_tg_allocs[tg]
            noun = "allocations" if metrics.coalesced_failures > 0 else "allocation"
            count = metrics.coalesced_failures + 1
            out += f'  Task Group "{tg}" (failed to place {count} {noun}):\n'
            out += "\n".join(format_alloc_metrics(metrics, " " * 4)) + "\n\n"
        if rolling is None:
            out = out.removesuffix("\n")
    if rolling is not None:
        out += f"- Rolling update, next evaluation will be in {rolling.wait // 10**9}s.\n"
    launch = _timestamp_ns(resp.next_periodic_launch)
    if launch and not job.is_parameterized():
        out += (
            f"- If submitted now, next periodic launch would be at {format_time(launch)} "
            f"({pretty_time_diff(launch).removesuffix(' from now')} from now).\n"
        )
    return out.removesuffix("\n")


def _timestamp_ns(text: str) -> int:
    if not text or text.startswith("0001-"):
        return 0
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return int(moment.timestamp() * 1e9)


def plan_exit_code(resp: JobPlanResponse) -> int:
    """Nomad's: 0 when no allocation is created or destroyed, 1 when some are."""
    if resp.diff is None or resp.diff.type == "None":
        return 0
    for d in (resp.annotations.desired_tg_updates if resp.annotations else {}).values():
        if d.stop + d.place + d.migrate + d.destructive_update + d.canary > 0:
            return 1
    return 0
