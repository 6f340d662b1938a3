"""AllocReconciler: what must change so a job's allocations match the job (service, batch).

Per task group it buckets the existing allocations (allocset.py) and decides: stop the
surplus (highest indexes first) and allocs on down nodes, place what is missing (lowest free
indexes, replacing lost and failed allocs with a link to their predecessor), update in place
or destructively (updates.py), and schedule follow-up evaluations for failed allocs whose
reschedule delay has not passed. Counts per group (DesiredTGUpdates) feed ``job plan``.

Deployments (rules in deployment.py): a group with an ``update`` block rolls a new job
version out through a deployment. The reconciler cancels the deployment of an older version,
creates one for the new version (in the plan), places ``canary`` canaries first and waits for
their promotion, and limits destructive updates to ``max_parallel`` allocations not yet
healthy; while the deployment is paused, pending (multiregion) or failed nothing new starts.
When every group has its desired healthy allocations the deployment becomes successful
(``blocked`` for a multiregion job, whose coordinator unblocks it).

Not yet modelled: disconnected clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import msgspec

from nomadic.structs import (
    Allocation,
    Deployment,
    DeploymentState,
    DeploymentStatusUpdate,
    Evaluation,
    Job,
    Node,
    TaskGroup,
)
from nomadic.structs import deployment as dep
from nomadic.structs.consts import (
    ALLOC_CLIENT_LOST,
    EVAL_STATUS_PENDING,
    JOB_TYPE_SERVICE,
    TRIGGER_RETRY_FAILED_ALLOC,
)
from nomadic.structs.ids import new_id
from nomadic.structs.job import UpdateStrategy

from . import deployment as rollout
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
    canary: bool = False


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
    # a deployment created (or given new groups) by this reconcile, status changes of others
    deployment: Deployment | None = None
    deployment_updates: list[DeploymentStatusUpdate] = field(default_factory=list)


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
        deployment: Deployment | None = None,
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
        # the job's current deployment (None once cancelled or successful) and the old one
        self.deployment, self.old_deployment, updates = rollout.cancel_unneeded(job, deployment)
        self.result.deployment_updates += updates
        status = self.deployment.status if self.deployment is not None else ""
        self.deployment_paused = status in (
            dep.DEPLOYMENT_STATUS_PAUSED,
            dep.DEPLOYMENT_STATUS_PENDING,
        )
        self.deployment_failed = status == dep.DEPLOYMENT_STATUS_FAILED

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
        if self.deployment is None and rollout.starts_pending(job):
            self.deployment_paused = True  # its deployment is created pending: place nothing
        complete = True
        for tg in job.task_groups:
            complete = self._compute_group(job, tg, matrix.get(tg.name, {})) and complete
        self._set_deployment_status(job, complete)
        return self.result

    def _set_deployment_status(self, job: Job, complete: bool) -> None:
        created = self.result.deployment
        if created is not None and created.status == dep.DEPLOYMENT_STATUS_RUNNING:
            waiting = [s for s in created.task_groups.values() if s.desired_canaries > 0]
            if waiting:
                auto = all(s.auto_promote for s in waiting)
                created.status_description = (
                    dep.DEPLOYMENT_DESC_AUTO_PROMOTION
                    if auto
                    else dep.DEPLOYMENT_DESC_NEEDS_PROMOTION
                )
        d = self.deployment
        if d is None or not complete or d.status != dep.DEPLOYMENT_STATUS_RUNNING:
            return
        if job.multiregion is not None:  # the coordinator unblocks it once every region is done
            status, desc = dep.DEPLOYMENT_STATUS_BLOCKED, dep.DEPLOYMENT_DESC_BLOCKED
        else:
            status, desc = dep.DEPLOYMENT_STATUS_SUCCESSFUL, dep.DEPLOYMENT_DESC_SUCCESSFUL
        self.result.deployment_updates.append(
            DeploymentStatusUpdate(deployment_id=d.id, status=status, status_description=desc)
        )

    def _handle_stop(self, matrix: dict[str, AllocSet]) -> None:
        for group, allocs in matrix.items():
            live = {k: a for k, a in allocs.items() if not a.terminal()}
            self._mark_stop(live, "", ALLOC_NOT_NEEDED)
            self.result.desired_tg_updates[group] = DesiredUpdates(stop=len(live))

    def _mark_stop(self, allocs: AllocSet, client_status: str, desc: str) -> None:
        for alloc in allocs.values():
            self.result.stop.append(StopResult(alloc, client_status, desc))

    def _compute_group(self, job: Job, tg: TaskGroup, allocs: AllocSet) -> bool:
        """Reconcile one group; True when its part of the deployment is complete."""
        desired = DesiredUpdates()
        self.result.desired_tg_updates[tg.name] = desired
        dstate, existing_state = self._deployment_state(tg)
        allocs = self._filter_old_terminal(job, allocs)
        all_allocs = allocs
        canaries, allocs = self._handle_canaries(allocs, desired)
        untainted, migrate, lost = filter_by_tainted(allocs, self.tainted)
        untainted, resched_now, resched_later = filter_by_reschedulable(
            untainted, self.batch, self.now, self.eval_id
        )
        self._create_reschedule_later_evals(job, tg.name, resched_later)
        names = AllocNameIndex(
            self.job_id, tg.name, tg.count, {**untainted, **migrate, **resched_now, **lost}
        )
        canarying = dstate.desired_canaries != 0 and not dstate.promoted
        stop = self._compute_stop(tg, names, untainted, migrate, lost, canaries, canarying)
        desired.stop += len(stop)
        untainted = {k: a for k, a in untainted.items() if k not in stop}
        inplace_before = len(self.result.inplace_update)
        destructive = self._compute_updates(job, tg, untainted, desired)
        inplace = len(self.result.inplace_update) - inplace_before
        if canarying:
            untainted = {k: a for k, a in untainted.items() if k not in canaries}
        strategy = rollout.strategy_of(tg) if not self.batch else None
        halted = self.deployment_paused or self.deployment_failed
        require_canary = self._place_canaries(
            tg, strategy, dstate, existing_state, canaries, destructive, desired, halted
        )
        canarying = dstate.desired_canaries != 0 and not dstate.promoted
        limit = rollout.compute_limit(
            tg,
            self.deployment,
            untainted,
            len(destructive) + len(migrate),
            halted=halted,
            canarying=canarying,
        )
        place = self._compute_placements(tg, names, untainted, migrate, resched_now, lost)
        if not halted and not canarying:
            desired.place += len(place)
            self.result.place += place
            self._mark_stop(resched_now, "", ALLOC_RESCHEDULED)
            desired.stop += len(resched_now)
            limit -= min(len(place), limit)
            self._update_destructively(tg, destructive, limit, desired)
        else:
            self._place_while_halted(place, lost, desired)
            desired.ignore += len(destructive)
        self._compute_migrations(tg, migrate, desired)
        updating_spec = bool(destructive) or inplace > 0
        had_running = any(
            a.job is not None
            and a.job.version == job.version
            and a.job.create_index == job.create_index
            for a in all_allocs.values()
        )
        if (
            not existing_state
            and strategy is not None
            and dstate.desired_total != 0
            and (not had_running or updating_spec)
        ):
            self._attach_group(job, tg.name, dstate)
        changes = len(destructive) + inplace + len(place) + len(migrate)
        complete = changes + len(resched_now) + len(resched_later) == 0 and not require_canary
        return complete and rollout.group_complete(self.deployment, tg.name)

    def _place_canaries(
        self,
        tg: TaskGroup,
        strategy: UpdateStrategy | None,
        dstate: DeploymentState,
        existing_state: bool,
        canaries: AllocSet,
        destructive: AllocSet,
        desired: DesiredUpdates,
        halted: bool,
    ) -> bool:
        """Place the canaries a destructive change needs first; True when it needs them."""
        if strategy is None or not destructive or dstate.promoted:
            return False
        if len(canaries) >= strategy.canary:
            return False
        if not existing_state:  # an existing state belongs to the snapshot: read only
            dstate.desired_canaries = strategy.canary
        if not halted:
            number = strategy.canary - len(canaries)
            desired.canary += number
            for name in rollout.next_canaries(self.job_id, tg, number, canaries, destructive):
                self.result.place.append(PlaceResult(name=name, task_group=tg, canary=True))
        return True

    def _update_destructively(
        self, tg: TaskGroup, destructive: AllocSet, limit: int, desired: DesiredUpdates
    ) -> None:
        """Replace up to ``limit`` allocations, lowest names first; the rest wait."""
        n = min(len(destructive), limit)
        desired.destructive_update += n
        desired.ignore += len(destructive) - n
        for alloc in sorted(destructive.values(), key=lambda a: a.index())[:n]:
            self.result.destructive_update.append(
                PlaceResult(
                    name=alloc.name,
                    task_group=tg,
                    previous_alloc=alloc,
                    stop_previous=True,
                    stop_description=ALLOC_UPDATING,
                )
            )

    def _deployment_state(self, tg: TaskGroup) -> tuple[DeploymentState, bool]:
        d = self.deployment
        if d is not None and tg.name in d.task_groups:
            return d.task_groups[tg.name], True
        return rollout.initial_state(tg), False

    def _attach_group(self, job: Job, group: str, state: DeploymentState) -> None:
        """Add the group to the deployment, creating it (in the plan) when there is none."""
        if self.deployment is None:
            self.deployment = rollout.new_deployment(job, self.eval_priority, self.new_id, self.now)
        elif self.result.deployment is not self.deployment:
            # never change the snapshot's object: the plan carries a changed copy
            self.deployment = msgspec.structs.replace(
                self.deployment, task_groups=dict(self.deployment.task_groups)
            )
        self.deployment.task_groups[group] = state
        self.result.deployment = self.deployment

    def _handle_canaries(
        self, allocs: AllocSet, desired: DesiredUpdates
    ) -> tuple[AllocSet, AllocSet]:
        """(current canaries, the rest). Unpromoted canaries of an older or a failed
        deployment are stopped; canaries on tainted nodes are stopped (not replaced)."""
        stop_ids: list[str] = []
        for d in (self.old_deployment, self.deployment if self.deployment_failed else None):
            if d is not None:
                for state in d.task_groups.values():
                    if not state.promoted:
                        stop_ids += state.placed_canaries
        stop = {i: allocs[i] for i in stop_ids if i in allocs and not allocs[i].terminal()}
        self._mark_stop(stop, "", ALLOC_NOT_NEEDED)
        desired.stop += len(stop)
        rest = {k: a for k, a in allocs.items() if k not in stop}
        canaries: AllocSet = {}
        if self.deployment is not None:
            ids = {i for s in self.deployment.task_groups.values() for i in s.placed_canaries}
            found = {k: a for k, a in rest.items() if k in ids}
            untainted, migrate, lost = filter_by_tainted(found, self.tainted)
            self._mark_stop(migrate, "", ALLOC_MIGRATING)
            self._mark_stop(lost, ALLOC_CLIENT_LOST, ALLOC_LOST)
            canaries = untainted
            rest = {k: a for k, a in rest.items() if k not in migrate and k not in lost}
        return canaries, rest

    def _place_while_halted(
        self, place: list[PlaceResult], lost: AllocSet, desired: DesiredUpdates
    ) -> None:
        """A paused, failed or canarying deployment still replaces lost allocations and
        reschedules failed ones (except those of the failed deployment itself)."""
        allowed = min(len(lost), len(place))
        chosen = [p for p in place if p.lost][:allowed]
        for p in place:
            prev = p.previous_alloc
            if not p.reschedule or prev is None:
                continue
            d = self.deployment
            if self.deployment_failed and d is not None and prev.deployment_id == d.id:
                continue
            chosen.append(p)
            self.result.stop.append(StopResult(prev, "", ALLOC_RESCHEDULED))
            desired.stop += 1
        desired.place += len(chosen)
        self.result.place += chosen

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
        canaries: AllocSet,
        canarying: bool,
    ) -> AllocSet:
        stop: AllocSet = dict(lost)
        self._mark_stop(lost, ALLOC_CLIENT_LOST, ALLOC_LOST)
        counted = {k: a for k, a in untainted.items() if not (canarying and k in canaries)}
        remove = len(counted) + len(migrate) - tg.count
        if remove <= 0:
            return stop
        if not canarying and canaries:
            # promoted canaries replace the old allocations that carry their names
            canary_names = {a.name for a in canaries.values()}
            for aid, alloc in sorted(counted.items(), key=lambda kv: kv[1].index()):
                if remove == 0:
                    return stop
                if aid not in canaries and alloc.name in canary_names and not alloc.terminal():
                    stop[aid] = alloc
                    self._mark_stop({aid: alloc}, "", ALLOC_NOT_NEEDED)
                    remove -= 1
            if remove <= 0:
                return stop
        live = {
            k: a
            for k, a in counted.items()
            if not a.terminal() and k not in stop and k not in canaries
        }
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
