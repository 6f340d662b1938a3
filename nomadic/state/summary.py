"""Derived job data the store keeps up to date: job summaries and job status.

Both follow Nomad's state store: a summary counts a job's allocations per task group by client
status (``updateSummaryWithAlloc``), with ``Queued`` taken from the latest evaluation's
``QueuedAllocations``; a job's status is derived from its allocations and evaluations
(``getJobStatus``).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from nomadic.structs import Allocation, Evaluation, Job, JobSummary, JobSummaryCounts
from nomadic.structs.codec import clone
from nomadic.structs.consts import (
    ALLOC_CLIENT_COMPLETE,
    ALLOC_CLIENT_FAILED,
    ALLOC_CLIENT_LOST,
    ALLOC_CLIENT_PENDING,
    ALLOC_CLIENT_RUNNING,
    ALLOC_CLIENT_UNKNOWN,
    JOB_STATUS_DEAD,
    JOB_STATUS_PENDING,
    JOB_STATUS_RUNNING,
    JOB_TYPE_SYSTEM,
)

__all__ = [
    "apply_alloc",
    "apply_queued",
    "count_child",
    "job_status",
    "spec_changed",
    "summary_for_job",
]

# client status -> JobSummaryCounts field
_BINS = {
    ALLOC_CLIENT_PENDING: "starting",
    ALLOC_CLIENT_RUNNING: "running",
    ALLOC_CLIENT_COMPLETE: "complete",
    ALLOC_CLIENT_FAILED: "failed",
    ALLOC_CLIENT_LOST: "lost",
    ALLOC_CLIENT_UNKNOWN: "unknown",
}

_SERVER_FIELDS = {
    "status": "",
    "status_description": "",
    "stable": False,
    "version": 0,
    "submit_time": 0,
    "create_index": 0,
    "modify_index": 0,
    "job_modify_index": 0,
}


def spec_changed(new: Job, old: Job) -> bool:
    """True when the user-visible spec differs (server-set fields are ignored)."""
    return msgspec.structs.replace(new, **_SERVER_FIELDS) != msgspec.structs.replace(
        old, **_SERVER_FIELDS
    )


def copy_summary(summary: JobSummary) -> JobSummary:
    """A copy whose counts may be changed (much cheaper than ``copy.deepcopy``)."""
    return msgspec.structs.replace(
        summary,
        summary={tg: msgspec.structs.replace(c) for tg, c in summary.summary.items()},
        children=msgspec.structs.replace(summary.children),
    )


def summary_for_job(job: Job, existing: JobSummary | None, index: int) -> JobSummary:
    """The job's summary with a (zeroed) entry for every task group it now has."""
    if existing is None:
        summary = JobSummary(job_id=job.id, namespace=job.namespace, create_index=index)
    else:
        summary = copy_summary(existing)
    for tg in job.task_groups:
        summary.summary.setdefault(tg.name, JobSummaryCounts())
    summary.modify_index = index
    return summary


def apply_alloc(
    summary: JobSummary,
    old: Allocation | None,
    new: Allocation,
    index: int,
    *,
    in_place: bool = False,
) -> JobSummary | None:
    """The summary after ``old`` became ``new``; None when nothing changed.

    ``in_place``: ``summary`` is a private copy (made earlier in the same write) and is
    updated and returned as it is, rather than copied again for every allocation.
    """
    if old is not None and old.client_status == new.client_status:
        return None
    if not in_place:
        summary = copy_summary(summary)
    counts = summary.summary.setdefault(new.task_group, JobSummaryCounts())
    if old is None:
        if new.client_status == ALLOC_CLIENT_PENDING:
            counts.starting += 1
            if counts.queued > 0:
                counts.queued -= 1
        elif new.client_status in _BINS:
            _bump(counts, new.client_status, 1)
    else:
        _bump(counts, new.client_status, 1)
        _bump(counts, old.client_status, -1)
    summary.modify_index = index
    return summary


def apply_queued(summary: JobSummary, evaluation: Evaluation, index: int) -> JobSummary | None:
    """Set each group's ``Queued`` from the eval's QueuedAllocations; None when unchanged."""
    changed = False
    new = copy_summary(summary)
    for tg, queued in evaluation.queued_allocations.items():
        counts = new.summary.get(tg)
        if counts is not None and counts.queued != queued:
            counts.queued = queued
            changed = True
    if not changed:
        return None
    new.modify_index = index
    return new


def count_child(summary: JobSummary, status: str, delta: int, index: int) -> JobSummary:
    """A parent's summary with one child counted in (``delta`` 1) or out (-1) of ``status``."""
    new = clone(summary)
    children = new.children
    field = {JOB_STATUS_RUNNING: "running", JOB_STATUS_DEAD: "dead"}.get(status, "pending")
    setattr(children, field, max(getattr(children, field) + delta, 0))
    new.modify_index = index
    return new


def _bump(counts: JobSummaryCounts, client_status: str, delta: int) -> None:
    field = _BINS.get(client_status)
    if field is None:
        return
    value = getattr(counts, field) + delta
    setattr(counts, field, max(value, 0))


def job_status(job: Job, allocs: Iterable[Allocation], evals: Iterable[Evaluation]) -> str:
    """Nomad's getJobStatus: running while any alloc runs, pending while any eval is open.

    Order does not matter: the walk stops at the first live allocation (or open evaluation), so
    a running job's status costs one lookup however many allocations it has.
    """
    if job.type == JOB_TYPE_SYSTEM or job.is_parameterized() or job.is_periodic():
        return JOB_STATUS_DEAD if job.stop else JOB_STATUS_RUNNING
    seen = False
    for a in allocs:
        if not a.terminal():
            return JOB_STATUS_RUNNING
        seen = True
    for e in evals:
        if not e.terminal():
            return JOB_STATUS_PENDING
        seen = True
    return JOB_STATUS_DEAD if seen else JOB_STATUS_PENDING
