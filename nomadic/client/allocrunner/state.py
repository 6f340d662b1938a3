"""AllocRunnerState: the pure state machine of one allocation (events in, instructions out).

It owns what Nomad's alloc runner decides: build the alloc dir, start the tasks, kill the
siblings of a failed task (or of a dead leader), kill everything when the server stops the
allocation, and derive the client status from the task states:

    any task failed -> failed;  else any running -> running;  else any pending -> pending;
    else (all dead) -> complete

Task lifecycle ordering (Nomad's ``tasklifecycle`` coordinator), decided in ``_advance``:

    prestart tasks start at once
      -> main tasks once every prestart task that is not a sidecar exited successfully and
         every prestart sidecar is running
      -> poststart tasks once every main task has started
    no live task left but sidecars -> kill the sidecars ("main tasks are done")
    every task but the poststop ones dead -> poststop tasks start

A task that was never started when the allocation is killed (a failed sibling, a dead
leader, a stop from the server) is marked dead without running, except poststop tasks: they
run once everything else is dead, also after a failure or a stop.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from nomadic.structs import (
    Allocation,
    AllocDeploymentStatus,
    AllocUpdate,
    TaskGroup,
    TaskState,
)
from nomadic.structs.codec import clone
from nomadic.structs.consts import (
    ALLOC_CLIENT_COMPLETE,
    ALLOC_CLIENT_FAILED,
    ALLOC_CLIENT_PENDING,
    ALLOC_CLIENT_RUNNING,
    TASK_STATE_DEAD,
    TASK_STATE_PENDING,
    TASK_STATE_RUNNING,
)

from ..taskrunner import events as ev
from ..taskrunner.state import rfc3339

__all__ = [
    "AllocDirReady",
    "AllocRestored",
    "AllocRunnerState",
    "AllocStart",
    "AllocUpdated",
    "BuildAllocDir",
    "HealthDecided",
    "KillTask",
    "ReportStatus",
    "StartTask",
    "TaskUpdated",
    "client_status",
]

LEADER_DEAD_REASON = "Leader Task Dead"
SIDECARS_DONE_REASON = "Main tasks in the group died"
PRESTART, POSTSTART, POSTSTOP, MAIN = "prestart", "poststart", "poststop", ""


@dataclass(frozen=True)
class AllocStart:
    pass


@dataclass(frozen=True)
class AllocDirReady:
    error: str = ""


@dataclass(frozen=True)
class TaskUpdated:
    task: str
    state: TaskState


@dataclass(frozen=True)
class AllocUpdated:
    alloc: Allocation


@dataclass(frozen=True)
class AllocRestored:
    """A restarted client re-attached its task runners; these are their saved states."""

    states: dict[str, TaskState]


@dataclass(frozen=True)
class HealthDecided:
    """The deployment health verdict (health.py): reported with every later status."""

    healthy: bool


Event = AllocStart | AllocDirReady | TaskUpdated | AllocUpdated | AllocRestored | HealthDecided


@dataclass(frozen=True)
class BuildAllocDir:
    pass


@dataclass(frozen=True)
class StartTask:
    task: str


@dataclass(frozen=True)
class KillTask:
    task: str
    reason: str = ""
    failed_sibling: str = ""


@dataclass(frozen=True)
class ReportStatus:
    update: AllocUpdate


Instruction = BuildAllocDir | StartTask | KillTask | ReportStatus


def client_status(states: dict[str, TaskState]) -> tuple[str, str]:
    """Nomad's ``getClientStatus``: (status, description) from the task states."""
    values = list(states.values())
    if any(s.state == TASK_STATE_DEAD and s.failed for s in values):
        return ALLOC_CLIENT_FAILED, "Failed tasks"
    if any(s.state == TASK_STATE_RUNNING for s in values):
        return ALLOC_CLIENT_RUNNING, "Tasks are running"
    if any(s.state == TASK_STATE_PENDING for s in values):
        return ALLOC_CLIENT_PENDING, "No tasks have started"
    if values:
        return ALLOC_CLIENT_COMPLETE, "All tasks have completed"
    return ALLOC_CLIENT_PENDING, ""


class AllocRunnerState:
    def __init__(self, alloc: Allocation, group: TaskGroup) -> None:
        self.alloc = alloc
        self.group = group
        self.states: dict[str, TaskState] = {
            t.name: copy.deepcopy(alloc.task_states.get(t.name, TaskState())) for t in group.tasks
        }
        self.started: set[str] = set()
        self.killing: set[str] = set()
        self.stopping = False  # a failure, a dead leader or the server stopped the alloc
        self.reported: tuple[str, str] | None = None
        self.deployment_status: AllocDeploymentStatus | None = None

    def handle(self, event: Event, now: int) -> list[Instruction]:
        match event:
            case AllocStart():
                if self.alloc.server_terminal():
                    return self._mark_all_dead(now, None)
                return [BuildAllocDir()]
            case AllocDirReady() if self.alloc.server_terminal():
                return self._mark_all_dead(now, None)
            case AllocDirReady(error=""):
                return self._start_tasks()
            case AllocDirReady(error=error):
                return self._mark_all_dead(now, f"failed to build alloc dir: {error}")
            case TaskUpdated(task=name, state=state):
                self.states[name] = state
                return [*self._react_to(name, state, now), self._report(now)]
            case HealthDecided(healthy=healthy):
                self.deployment_status = AllocDeploymentStatus(healthy=healthy, timestamp=now)
                return [self._report(now)]
            case AllocRestored(states=states):
                self.states.update(copy.deepcopy(states))
                self.started = set(self.states)
                return [self._report(now)]
            case AllocUpdated(alloc=alloc):
                self.alloc = alloc
                if alloc.server_terminal() and not self.stopping:
                    dead = sum(map(self._dead, self.states))
                    out = [*self._kill_all(now), *self._advance()]
                    if sum(map(self._dead, self.states)) != dead:  # unstarted tasks gave up
                        out.append(self._report(now))
                    return out
        return []

    def _start_tasks(self) -> list[Instruction]:
        return self._advance()

    def _hook(self, name: str) -> str:
        task = self.group.lookup_task(name)
        return task.lifecycle.hook if task is not None and task.lifecycle is not None else MAIN

    def _sidecar(self, name: str) -> bool:
        task = self.group.lookup_task(name)
        return bool(task is not None and task.lifecycle is not None and task.lifecycle.sidecar)

    def _names(self, hook: str) -> list[str]:
        return [t.name for t in self.group.tasks if self._hook(t.name) == hook]

    def _dead(self, name: str) -> bool:
        return self.states[name].state == TASK_STATE_DEAD

    def _done_ok(self, name: str) -> bool:
        return self._dead(name) and not self.states[name].failed

    def _advance(self) -> list[Instruction]:
        """Start what the lifecycle order allows now; kill sidecars once they are alone."""
        out: list[Instruction] = []
        want: list[str] = []
        if not self.stopping:
            prestart = self._names(PRESTART)
            want += prestart
            ready = all(
                self.states[n].state == TASK_STATE_RUNNING if self._sidecar(n) else self._done_ok(n)
                for n in prestart
            )
            main = self._names(MAIN)
            if ready:
                want += main
                if all(
                    self.states[n].state == TASK_STATE_RUNNING or self._done_ok(n) for n in main
                ):
                    want += self._names(POSTSTART)
        others = [t.name for t in self.group.tasks if self._hook(t.name) != POSTSTOP]
        live = [n for n in others if not self._dead(n)]
        if live and all(self._sidecar(n) and n in self.started for n in live):
            out += self._kill(live, reason=SIDECARS_DONE_REASON)
        if not live:
            want += self._names(POSTSTOP)
        for name in want:
            if name not in self.started and not self._dead(name):
                self.started.add(name)
                out.append(StartTask(name))
        return out

    def _react_to(self, name: str, state: TaskState, now: int) -> list[Instruction]:
        out: list[Instruction] = []
        if state.state == TASK_STATE_DEAD and self._hook(name) != POSTSTOP:
            task = self.group.lookup_task(name)
            if state.failed:
                out = self._kill_all(now, failed_sibling=name)
            elif task is not None and task.leader:
                out = self._kill_all(now, reason=LEADER_DEAD_REASON)
        return [*out, *self._advance()]

    def _kill_all(
        self, now: int, *, reason: str = "", failed_sibling: str = ""
    ) -> list[Instruction]:
        """Stop every task but the poststop ones; those never started are marked dead."""
        self.stopping = True
        names = [t.name for t in self.group.tasks if self._hook(t.name) != POSTSTOP]
        for name in names:
            if name not in self.started and not self._dead(name):
                self.started.add(name)
                self.killing.add(name)
                state = self.states[name]
                state.state = TASK_STATE_DEAD
                state.finished_at = rfc3339(now)
        return self._kill(names, reason, failed_sibling)

    def _kill(
        self, names: list[str], reason: str = "", failed_sibling: str = ""
    ) -> list[Instruction]:
        out: list[Instruction] = []
        for name in names:
            if name in self.killing or self._dead(name) or name not in self.started:
                continue
            self.killing.add(name)
            out.append(KillTask(name, reason, failed_sibling))
        return out

    def _mark_all_dead(self, now: int, error: str | None) -> list[Instruction]:
        for state in self.states.values():
            if state.state != TASK_STATE_DEAD:
                if error:
                    state.events.append(ev.setup_failure(now, error))
                    state.failed = True
                state.state = TASK_STATE_DEAD
                state.finished_at = rfc3339(now)
        return [self._report(now)]

    def _report(self, now: int) -> ReportStatus:
        status, description = client_status(self.states)
        return ReportStatus(
            AllocUpdate(
                id=self.alloc.id,
                client_status=status,
                client_description=description,
                task_states={name: clone(s) for name, s in self.states.items()},
                modify_time=now,
                deployment_status=self.deployment_status,
            )
        )

    @property
    def terminal(self) -> bool:
        return all(s.state == TASK_STATE_DEAD for s in self.states.values())
