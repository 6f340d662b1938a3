"""Job.Plan: a scheduler dry run of a submitted job (Nomad's ``Job.Plan`` in job_endpoint.go).

The job is upserted into a private copy of the current state (O(1): the tables are persistent
maps), an evaluation with ``AnnotatePlan`` is created next to it, and the real scheduler runs
against that copy with a :class:`PlanRecorder`, a Planner that records the plan and evals and
never submits anything. Nothing reaches Raft; any server can answer.

The response carries the scheduler's per-group desired updates, the placements it could not
make (``FailedTGAllocs``), the evals it would create, the diff to the registered job
(annotated with what forces what), and the registered job's ``JobModifyIndex`` for
``job run -check-index``.
"""

from __future__ import annotations

import asyncio
import datetime
import time

import msgspec

from nomadic.errors import ValidationError
from nomadic.scheduler import new_scheduler
from nomadic.scheduler.annotate import annotate
from nomadic.scheduler.interfaces import State
from nomadic.state.snapshot import Snapshot
from nomadic.state.store import StateStore
from nomadic.structs import Evaluation, Job, Plan, PlanResult, canonicalize, validate
from nomadic.structs.consts import TRIGGER_JOB_REGISTER
from nomadic.structs.diff import job_diff
from nomadic.structs.periodic import next_launch
from nomadic.structs.requests import ZERO_TIME, DesiredUpdates, JobPlanResponse, PlanAnnotations

from .base import new_eval
from .globalobjs import require_namespace, require_node_pool

__all__ = ["PlanRecorder", "plan_job"]


class PlanRecorder:
    """A Planner that records what the scheduler decided and commits nothing."""

    def __init__(self) -> None:
        self.plans: list[Plan] = []
        self.evals: list[Evaluation] = []
        self.create_evals: list[Evaluation] = []

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, State | None]:
        self.plans.append(plan)
        result = PlanResult(
            node_update=dict(plan.node_update),
            node_allocation=dict(plan.node_allocation),
            node_preemptions=dict(plan.node_preemptions),
        )
        return result, None

    def update_eval(self, evaluation: Evaluation) -> None:
        self.evals.append(evaluation)

    def create_eval(self, evaluation: Evaluation) -> None:
        self.create_evals.append(evaluation)

    def reblock_eval(self, evaluation: Evaluation) -> None:
        self.evals.append(evaluation)


def _dry_run_state(snap: Snapshot, job: Job) -> tuple[Snapshot, Evaluation]:
    """A copy of ``snap`` with ``job`` registered and its annotated evaluation pending."""
    scratch = StateStore()
    scratch.restore(snap.tables)
    index = snap.latest_index() + 1
    stored = scratch.upsert_job(index, job)
    ev = msgspec.structs.replace(
        new_eval(stored, TRIGGER_JOB_REGISTER),
        job_modify_index=stored.job_modify_index,
        annotate_plan=True,
    )
    scratch.upsert_evals(index + 1, [ev])
    after = scratch.snapshot()
    return after, after.eval_by_id(ev.id) or ev


def next_periodic_launch(job: Job, now_ns: int) -> str:
    """When the periodic job would launch next if submitted now (RFC 3339, UTC), else Go's
    zero time. The cron arithmetic is the periodic dispatcher's (``structs.periodic``)."""
    if not job.is_periodic() or job.is_parameterized() or job.periodic is None:
        return ZERO_TIME
    nxt = next_launch(job.periodic, now_ns)
    if nxt <= 0:
        return ZERO_TIME
    moment = datetime.datetime.fromtimestamp(nxt / 1e9, tz=datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


async def plan_job(snap: Snapshot, job: Job, *, diff: bool) -> JobPlanResponse:
    """Run the scheduler for ``job`` on a copy of ``snap``; see the module docstring."""
    job = canonicalize(job)
    errors = validate(job)
    if errors:
        raise ValidationError(errors)
    require_namespace(snap, job.namespace)
    require_node_pool(snap, job.node_pool)
    existing = snap.job_by_id(job.namespace, job.id)
    state, ev = _dry_run_state(snap, job)
    recorder = PlanRecorder()
    scheduler = new_scheduler(ev.type, state, recorder)
    await asyncio.to_thread(scheduler.process, ev)
    raw = recorder.plans[-1].annotations if recorder.plans else None
    desired = {tg: msgspec.convert(c, DesiredUpdates) for tg, c in (raw or {}).items()}
    resp = JobPlanResponse(
        job_modify_index=existing.job_modify_index if existing else 0,
        annotations=PlanAnnotations(desired_tg_updates=desired),
        created_evals=recorder.create_evals or None,
        failed_tg_allocs=(recorder.evals[-1].failed_tg_allocs or None) if recorder.evals else None,
        index=snap.latest_index(),
        next_periodic_launch=next_periodic_launch(job, time.time_ns()),
    )
    if diff:
        planned = state.job_by_id(job.namespace, job.id)
        resp.diff = job_diff(existing, planned)
        annotate(resp.diff, raw)
    return resp
