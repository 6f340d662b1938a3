"""AllocReconciler: what must change so a job's allocations match the job (service, batch).

Per task group it buckets the existing allocations (allocset.py) and decides: stop the
surplus (highest indexes first) and allocs on down nodes, place what is missing (lowest free
indexes, replacing lost and failed allocs with a link to their predecessor), update in place
or destructively (updates.py), and schedule follow-up evaluations for failed allocs whose
reschedule delay has not passed. Counts per group (DesiredTGUpdates) feed ``job plan``.

Not yet modelled: deployments (canaries, ``update.max_parallel`` pacing: every destructive
update is made at once), disconnected clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import msgspec

from nomadic.structs import Allocation, Evaluation, Job, Node, TaskGroup
from nomadic.structs.consts import (
    ALLOC_CLIENT_LOST,
    EVAL_STATUS_PENDING,
    JOB_TYPE_SERVICE,
    TRIGGER_RETRY_FAILED_ALLOC,
)
from nomadic.structs.ids import new_id

from .allocset import (
    AllocNameIndex,
    AllocSet,
    DelayedReschedule,
    filter_by_reschedulable,
    filter_by_tainted,
)

__all__ = [
    "ALLOC_IN_PLACE",
    "ALLOC_LOST",
    "ALLOC_MIGRATING",
    "ALLOC_NOT_NEEDED",
    "ALLOC_RESCHEDULED",
    "ALLOC_UPDATING",
    "AllocReconciler",
    "AllocUpdateFn",
    "DesiredUpdates",
    "PlaceResult",
    "ReconcileResults",
    "StopResult",
]

# Nomad's desired-status descriptions, shown by `alloc status`.
ALLOC_NOT_NEEDED: Final = "alloc not needed due to job update"
ALLOC_MIGRATING: Final = "alloc is being migrated"
ALLOC_UPDATING: Final = "alloc is being updated due to job update"
ALLOC_LOST: Final = "alloc is lost since its node is down"
ALLOC_IN_PLACE: Final = "alloc updating in-place"
ALLOC_RESCHEDULED: Final = "alloc was rescheduled because it failed"
RESCHEDULING_FOLLOWUP_EVAL_DESC: Final = "created for delayed rescheduling"
# Failed allocs due within this window of each other share one follow-up eval (5s).
BATCHED_FAILED_ALLOC_WINDOW: Final = 5_000_000_000

# (existing alloc, new job, group) -> (ignore, destructive, the in-place updated alloc)
AllocUpdateFn = Callable[[Allocation, Job, TaskGroup], tuple[bool, bool, Allocation | None]]


@dataclass
class PlaceResult:
    """An allocation to place; with ``stop_previous`` it is a destructive update."""

    name: str
    task_group: TaskGroup
    previous_alloc: Allocation | None = None
    reschedule: bool = False
    lost: bool = False
    stop_previous: bool = False
    stop_description: str = ""


@dataclass
class StopResult:
    alloc: Allocation
    client_status: str = ""
    status_description: str = ""
    followup_eval_id: str = ""


@dataclass
class DesiredUpdates:
    ignore: int = 0
    place: int = 0
    migrate: int = 0
    stop: int = 0
    in_place_update: int = 0
    destructive_update: int = 0
    canary: int = 0
    preemptions: int = 0

    def annotation(self) -> dict[str, int]:
        """The counts under Nomad's JSON names (PlanAnnotations.DesiredTGUpdates)."""
        return {
            "Ignore": self.ignore,
            "Place": self.place,
            "Migrate": self.migrate,
            "Stop": self.stop,
            "InPlaceUpdate": self.in_place_update,
            "DestructiveUpdate": self.destructive_update,
            "Canary": self.canary,
            "Preemptions": self.preemptions,
        }


@dataclass
class ReconcileResults:
    place: list[PlaceResult] = field(default_factory=list)
    destructive_update: list[PlaceResult] = field(default_factory=list)
    inplace_update: list[Allocation] = field(default_factory=list)
    stop: list[StopResult] = field(default_factory=list)
    attribute_updates: dict[str, Allocation] = field(default_factory=dict)
    desired_tg_updates: dict[str, DesiredUpdates] = field(default_factory=dict)
    desired_followup_evals: dict[str, list[Evaluation]] = field(default_factory=dict)


class AllocReconciler:
    def __init__(
        self,
        alloc_update_fn: AllocUpdateFn,
        batch: bool,
        job_id: str,
        job: Job | None,
        existing: list[Allocation],
        tainted: dict[str, Node | None],
        eval_id: str,
        eval_priority: int,
        now: int,
        new_id: Callable[[], str] = new_id,
    ) -> None:
        self.alloc_update_fn = alloc_update_fn
        self.batch = batch
        self.job_id = job_id
        self.job = job
        self.existing = existing
        self.tainted = tainted
        self.eval_id = eval_id
        self.eval_priority = eval_priority
        self.now = now
        self.new_id = new_id
        self.result = ReconcileResults()

    def compute(self) -> ReconcileResults:
        matrix: dict[str, AllocSet] = {}
        for alloc in self.existing:
            matrix.setdefault(alloc.task_group, {})[alloc.id] = alloc
        job = self.job
        if job is None or job.stop:
            self._handle_stop(matrix)
            return self.result
        for group, allocs in matrix.items():
            if job.lookup_task_group(group) is None:
                self._handle_stop({group: allocs})
        for tg in job.task_groups:
            self._compute_group(job, tg, matrix.get(tg.name, {}))
        return self.result

    def _handle_stop(self, matrix: dict[str, AllocSet]) -> None:
        for group, allocs in matrix.items():
            live = {k: a for k, a in allocs.items() if not a.terminal()}
            self._mark_stop(live, "", ALLOC_NOT_NEEDED)
            self.result.desired_tg_updates[group] = DesiredUpdates(stop=len(live))

    def _mark_stop(self, allocs: AllocSet, client_status: str, desc: str) -> None:
        for alloc in allocs.values():
            self.result.stop.append(StopResult(alloc, client_status, desc))

    def _compute_group(self, job: Job, tg: TaskGroup, allocs: AllocSet) -> None:
        desired = DesiredUpdates()
        self.result.desired_tg_updates[tg.name] = desired
        allocs = self._filter_old_terminal(job, allocs)
        untainted, migrate, lost = filter_by_tainted(allocs, self.tainted)
        untainted, resched_now, resched_later = filter_by_reschedulable(
            untainted, self.batch, self.now, self.eval_id
        )
        self._create_reschedule_later_evals(job, tg.name, resched_later)
        names = AllocNameIndex(
            self.job_id, tg.name, tg.count, {**untainted, **migrate, **resched_now, **lost}
        )
        stop = self._compute_stop(tg, names, untainted, migrate, lost)
        desired.stop += len(stop)
        untainted = {k: a for k, a in untainted.items() if k not in stop}
        destructive = self._compute_updates(job, tg, untainted, desired)
        place = self._compute_placements(tg, names, untainted, migrate, resched_now, lost)
        desired.place += len(place)
        self.result.place += place
        self._mark_stop(resched_now, "", ALLOC_RESCHEDULED)
        desired.stop += len(resched_now)
        for alloc in destructive.values():
            self.result.destructive_update.append(
                PlaceResult(
                    name=alloc.name,
                    task_group=tg,
                    previous_alloc=alloc,
                    stop_previous=True,
                    stop_description=ALLOC_UPDATING,
                )
            )
        desired.destructive_update += len(destructive)
        self._compute_migrations(tg, migrate, desired)

    def _filter_old_terminal(self, job: Job, allocs: AllocSet) -> AllocSet:
        """Batch: terminal allocs of an older job version no longer count toward the group."""
        if not self.batch:
            return allocs
        out: AllocSet = {}
        for aid, alloc in allocs.items():
            old = alloc.job is not None and (
                alloc.job.version < job.version or alloc.job.create_index < job.create_index
            )
            if not (old and alloc.terminal()):
                out[aid] = alloc
        return out

    def _compute_stop(
        self,
        tg: TaskGroup,
        names: AllocNameIndex,
        untainted: AllocSet,
        migrate: AllocSet,
        lost: AllocSet,
    ) -> AllocSet:
        stop: AllocSet = dict(lost)
        self._mark_stop(lost, ALLOC_CLIENT_LOST, ALLOC_LOST)
        remove = len(untainted) + len(migrate) - tg.count
        if remove <= 0:
            return stop
        live = {k: a for k, a in untainted.items() if not a.terminal()}
        if migrate:
            migrating = AllocNameIndex(self.job_id, tg.name, tg.count, migrate)
            remove_names = migrating.highest(remove)
            for aid, alloc in list(migrate.items()):
                if alloc.name in remove_names and remove > 0:
                    self._mark_stop({aid: alloc}, "", ALLOC_NOT_NEEDED)
                    del migrate[aid]
                    stop[aid] = alloc
                    names.unset(alloc.index())
                    remove -= 1
        remove_names = names.highest(remove)
        # highest indexes first, then (duplicate names) whatever is left, highest first
        ordered = sorted(live.values(), key=lambda a: (a.name not in remove_names, -a.index()))
        for alloc in ordered[: max(remove, 0)]:
            stop[alloc.id] = alloc
            self._mark_stop({alloc.id: alloc}, "", ALLOC_NOT_NEEDED)
        return stop

    def _compute_updates(
        self, job: Job, tg: TaskGroup, untainted: AllocSet, desired: DesiredUpdates
    ) -> AllocSet:
        destructive: AllocSet = {}
        for aid, alloc in untainted.items():
            ignore, destroy, updated = self.alloc_update_fn(alloc, job, tg)
            if ignore:
                desired.ignore += 1
            elif destroy:
                destructive[aid] = alloc
            elif updated is not None:
                desired.in_place_update += 1
                self.result.inplace_update.append(updated)
        return destructive

    def _compute_placements(
        self,
        tg: TaskGroup,
        names: AllocNameIndex,
        untainted: AllocSet,
        migrate: AllocSet,
        reschedule: AllocSet,
        lost: AllocSet,
    ) -> list[PlaceResult]:
        place = [
            PlaceResult(name=a.name, task_group=tg, previous_alloc=a, reschedule=True)
            for a in reschedule.values()
        ]
        existing = len(untainted) + len(migrate) + len(reschedule)
        for alloc in sorted(lost.values(), key=lambda a: a.index()):
            if existing >= tg.count:
                break
            existing += 1
            place.append(
                PlaceResult(name=alloc.name, task_group=tg, previous_alloc=alloc, lost=True)
            )
        if existing < tg.count:
            place += [PlaceResult(name=n, task_group=tg) for n in names.next(tg.count - existing)]
        return place

    def _compute_migrations(
        self, tg: TaskGroup, migrate: AllocSet, desired: DesiredUpdates
    ) -> None:
        for alloc in migrate.values():
            self.result.stop.append(StopResult(alloc, "", ALLOC_MIGRATING))
            self.result.place.append(
                PlaceResult(name=alloc.name, task_group=tg, previous_alloc=alloc)
            )
            desired.migrate += 1

    def _create_reschedule_later_evals(
        self, job: Job, group: str, later: list[DelayedReschedule]
    ) -> None:
        if not later:
            return
        later = sorted(later, key=lambda d: d.reschedule_time)
        evals: list[Evaluation] = []
        batch_start = -1
        for item in later:
            if not evals or item.reschedule_time - batch_start >= BATCHED_FAILED_ALLOC_WINDOW:
                batch_start = item.reschedule_time
                evals.append(self._followup_eval(job, batch_start))
            updated = msgspec.structs.replace(item.alloc, followup_eval_id=evals[-1].id)
            self.result.attribute_updates[updated.id] = updated
        self.result.desired_followup_evals.setdefault(group, []).extend(evals)

    def _followup_eval(self, job: Job, wait_until: int) -> Evaluation:
        return Evaluation(
            id=self.new_id(),
            namespace=job.namespace,
            priority=self.eval_priority,
            type=job.type or JOB_TYPE_SERVICE,
            triggered_by=TRIGGER_RETRY_FAILED_ALLOC,
            job_id=job.id,
            job_modify_index=job.modify_index,
            status=EVAL_STATUS_PENDING,
            status_description=RESCHEDULING_FOLLOWUP_EVAL_DESC,
            wait_until=wait_until,
        )
