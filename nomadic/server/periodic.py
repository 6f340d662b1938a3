"""PeriodicDispatch: the leader duty that launches periodic jobs (Nomad's ``nomad/periodic.go``).

    FSM job listener --keys--> PeriodicDispatch.on_jobs --> tracked jobs + next-launch heap
    run(): sleep until the earliest launch -> launch(job, t) --raft--> PERIODIC_LAUNCH entry
           {child "<parent>/periodic-<unix>", its eval, periodic_launch[parent] = t}

A child is a copy of the parent with ``ParentID`` set and ``Periodic`` cleared. The child,
its evaluation and the launch time are one Raft entry, so a launch is recorded wholly or
not at all. With ``prohibit_overlap`` a launch is skipped while an earlier child is still
pending or running. On gaining leadership, :meth:`restore` re-adds every periodic job and
force-runs, once, any job whose next launch after its last recorded one is already past
(Nomad's ``restorePeriodicDispatcher``): a launch missed during a leader change is caught up
once, never repeated for every missed tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable
from typing import Protocol

import msgspec

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.entries import Payload, PeriodicLaunchRequest
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Evaluation, Job, PeriodicLaunch
from nomadic.structs.consts import JOB_STATUS_DEAD, SECOND
from nomadic.structs.periodic import next_launch

from .endpoints.base import new_eval

__all__ = ["PERIODIC_LAUNCH_SUFFIX", "PeriodicDispatch", "derive_child"]

log = logging.getLogger(__name__)

PERIODIC_LAUNCH_SUFFIX = "/periodic-"
TRIGGER_PERIODIC_JOB = "periodic-job"

JobKey = tuple[str, str]


class PeriodicHost(Protocol):
    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int: ...


def derive_child(parent: Job, launch_ns: int) -> Job:
    """The job a launch at ``launch_ns`` runs (Nomad's ``deriveJob``)."""
    child_id = f"{parent.id}{PERIODIC_LAUNCH_SUFFIX}{launch_ns // SECOND}"
    return msgspec.structs.replace(
        parent,
        id=child_id,
        name=child_id,
        parent_id=parent.id,
        periodic=None,
        status="",
        status_description="",
        stop=False,
        submit_time=launch_ns,
        version=0,
        create_index=0,
        modify_index=0,
        job_modify_index=0,
    )


class PeriodicDispatch:
    def __init__(self, host: PeriodicHost, clock: Callable[[], int] = time.time_ns) -> None:
        self._host = host
        self._clock = clock
        self._tracked: dict[JobKey, Job] = {}
        self._next: dict[JobKey, int] = {}
        self._heap: list[tuple[int, JobKey]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._task is not None

    # -- leadership ---------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._tracked.clear()
        self._next.clear()
        self._heap.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def restore(self) -> None:
        """Track every periodic job in state; catch up, once, launches missed meanwhile."""
        snap = self._host.snapshot()
        now = self._clock()
        for job in snap.jobs(None):
            if not job.is_periodic_active() or job.periodic is None:
                continue
            self.add(job)
            last = snap.periodic_launch(job.namespace, job.id)
            if last is None:
                continue
            due = next_launch(job.periodic, last.launch)
            if due and due < now:
                log.info("periodic job %s missed its launch during a leader change", job.id)
                try:
                    await self.launch(job, now)
                except Exception:  # a failed catch-up must not stop the other jobs
                    log.exception("periodic job %s: catch-up launch failed", job.id)

    # -- tracking -----------------------------------------------------------------------

    def on_jobs(self, keys: list[JobKey]) -> None:
        """FSM notification (on the loop): jobs registered, stopped or purged."""
        if self._task is None:
            return
        snap = self._host.snapshot()
        for key in keys:
            job = snap.job_by_id(*key)
            if job is not None and job.is_periodic_active():
                old = self._tracked.get(key)
                if old is None or old.job_modify_index != job.job_modify_index:
                    self.add(job)
                else:
                    self._tracked[key] = job
            elif key in self._tracked:
                self.remove(key)

    def add(self, job: Job) -> None:
        """Track ``job`` (or its new version): its next launch counts from now."""
        assert job.periodic is not None
        key = (job.namespace, job.id)
        self._tracked[key] = job
        due = next_launch(job.periodic, self._clock())
        self._schedule(key, due)

    def remove(self, key: JobKey) -> None:
        self._tracked.pop(key, None)
        self._next.pop(key, None)
        self._wake.set()

    def next_launch_of(self, namespace: str, job_id: str) -> int:
        return self._next.get((namespace, job_id), 0)

    def _schedule(self, key: JobKey, due: int) -> None:
        if not due:
            self._next.pop(key, None)
            return
        self._next[key] = due
        heapq.heappush(self._heap, (due, key))
        self._wake.set()

    # -- launching ----------------------------------------------------------------------

    async def force(self, namespace: str, job_id: str) -> Evaluation:
        """``job periodic force``: launch now, whatever the schedule and prohibit_overlap."""
        job = self._host.snapshot().job_by_id(namespace, job_id)
        if job is None:
            raise NotFoundError(f'job "{job_id}" not found in namespace "{namespace}"')
        if not job.is_periodic_active():
            raise ValidationError(
                f'job "{job_id}" is not periodic (or is stopped or a parameterized template); '
                "only a running periodic job can be forced"
            )
        ev = await self.launch(job, self._clock())
        if ev is None:
            raise ValidationError(
                f'job "{job_id}" already launched a child this second; retry in a second'
            )
        return ev

    async def launch(self, job: Job, launch_ns: int) -> Evaluation | None:
        """Create the child of ``job`` for ``launch_ns``; None if that child exists already."""
        child = derive_child(job, launch_ns)
        if self._host.snapshot().job_by_id(child.namespace, child.id) is not None:
            return None
        ev = new_eval(child, TRIGGER_PERIODIC_JOB)
        record = PeriodicLaunch(id=job.id, namespace=job.namespace, launch=launch_ns)
        await self._host.apply(PeriodicLaunchRequest(job=child, launch=record, eval=ev))
        log.info("periodic job %s launched %s", job.id, child.id)
        return ev

    def _running_children(self, job: Job) -> bool:
        snap = self._host.snapshot()
        return any(c.status != JOB_STATUS_DEAD for c in snap.children(job.namespace, job.id))

    async def _due(self, key: JobKey, due: int) -> None:
        job = self._tracked.get(key)
        if job is None or job.periodic is None:
            return
        self._schedule(key, next_launch(job.periodic, due))
        if job.periodic.prohibit_overlap and self._running_children(job):
            log.info("periodic job %s: skipping launch, a previous child still runs", job.id)
            return
        try:
            await self.launch(job, due)
        except Exception:  # not leading any more, or Raft refused: the loop must go on
            log.exception("periodic job %s: launch failed", job.id)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            while self._heap and self._next.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # superseded or removed
            timeout = None
            if self._heap:
                due, key = self._heap[0]
                wait_ns = due - self._clock()
                if wait_ns <= 0:
                    heapq.heappop(self._heap)
                    self._next.pop(key, None)
                    await self._due(key, due)
                    continue
                timeout = wait_ns / SECOND
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
