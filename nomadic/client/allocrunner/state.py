"""AllocRunnerState: the pure state machine of one allocation (events in, instructions out).

It owns what Nomad's alloc runner decides: build the alloc dir, start the tasks, kill the
siblings of a failed task (or of a dead leader), kill everything when the server stops the
allocation, and derive the client status from the task states:

    any task failed -> failed;  else any running -> running;  else any pending -> pending;
    else (all dead) -> complete

Task lifecycle hooks (prestart/poststart/poststop ordering) plug in at ``_startable``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from nomadic.structs import Allocation, AllocUpdate, TaskGroup, TaskState
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
    "KillTask",
    "ReportStatus",
    "StartTask",
    "TaskUpdated",
    "client_status",
]

LEADER_DEAD_REASON = "Leader Task Dead"


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


Event = AllocStart | AllocDirReady | TaskUpdated | AllocUpdated | AllocRestored


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
        self.reported: tuple[str, str] | None = None

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
                return [*self._react_to(name, state), self._report(now)]
            case AllocRestored(states=states):
                self.states.update(copy.deepcopy(states))
                self.started = set(self.states)
                return [self._report(now)]
            case AllocUpdated(alloc=alloc):
                self.alloc = alloc
                if alloc.server_terminal():
                    return self._kill_all(reason="")
        return []

    def _start_tasks(self) -> list[Instruction]:
        out: list[Instruction] = []
        for task in self._startable():
            self.started.add(task)
            out.append(StartTask(task))
        return out

    def _startable(self) -> list[str]:
        # Seam for lifecycle ordering: today every task starts together.
        return [t.name for t in self.group.tasks if t.name not in self.started]

    def _react_to(self, name: str, state: TaskState) -> list[Instruction]:
        if state.state != TASK_STATE_DEAD:
            return []
        if state.failed:
            return self._kill_all(failed_sibling=name)
        task = self.group.lookup_task(name)
        if task is not None and task.leader:
            return self._kill_all(reason=LEADER_DEAD_REASON)
        return []

    def _kill_all(self, *, reason: str = "", failed_sibling: str = "") -> list[Instruction]:
        out: list[Instruction] = []
        for task in self.group.tasks:
            name = task.name
            if name in self.killing or self.states[name].state == TASK_STATE_DEAD:
                continue
            self.killing.add(name)
            if name in self.started:
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
                task_states=copy.deepcopy(self.states),
                modify_time=now,
            )
        )

    @property
    def terminal(self) -> bool:
        return all(s.state == TASK_STATE_DEAD for s in self.states.values())
