"""TaskRunnerState: the pure state machine of one task (events in, instructions out, no I/O).

The I/O side (:mod:`nomadic.client.taskrunner.runner`) feeds it what happened and runs the
instructions it returns, in order, with the task driver. Times are passed in, never read.

    new ─Start─> setup ─SetupDone─> starting ─Started─> running ─Exited─┐
                   │                   │ StartFailed                    │
                   └─ SetupDone(err) ──┴──> restart tracker <───────────┘
                                             │ Restarting: restart_wait ─RestartDue─> starting
                                             └ Terminated / Not Restarting: dead
    running ─Kill─> killing ─Exited─> dead (Killing, Terminated, Killed)
    running ─RestartRequested─> restarting ─Exited─> restart tracker (rule 2: restart now,
            not counted against the restart policy) ─> restart_wait ─> starting
    running ─SignalRequested─> running (a "Signaling" event; the runner sends the signal)
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from nomadic.plugin import ExitResult
from nomadic.structs import RestartPolicy, Task, TaskEvent, TaskState
from nomadic.structs.codec import clone
from nomadic.structs.consts import (
    SECOND,
    TASK_NOT_RESTARTING,
    TASK_RESTARTING,
    TASK_STATE_DEAD,
    TASK_STATE_PENDING,
    TASK_STATE_RUNNING,
)

from ..restarts import RestartDecision, RestartTracker
from . import events as ev

__all__ = [
    "CancelRestart",
    "DestroyTask",
    "Event",
    "Exited",
    "Instruction",
    "Kill",
    "Recovered",
    "RestartDue",
    "RestartRequested",
    "RunSetup",
    "ScheduleRestart",
    "SetupDone",
    "SignalRequested",
    "Start",
    "StartFailed",
    "StartTask",
    "Started",
    "StopFailed",
    "StopTask",
    "TaskRunnerState",
    "UpdateState",
    "WaitTask",
    "rfc3339",
]

DEFAULT_KILL_TIMEOUT = 5 * SECOND
MAX_EVENTS = 10  # Nomad keeps the last 10 events of each task


# ---- events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """The task runner begins: build the task directory, then start."""


@dataclass(frozen=True)
class SetupDone:
    error: str = ""
    artifact_error: str = ""  # a failed artifact download: retried under the restart policy


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class StartFailed:
    error: str
    recoverable: bool = False


@dataclass(frozen=True)
class Exited:
    result: ExitResult


@dataclass(frozen=True)
class RestartDue:
    pass


@dataclass(frozen=True)
class Kill:
    reason: str = ""
    failed_sibling: str = ""


@dataclass(frozen=True)
class StopFailed:
    error: str


@dataclass(frozen=True)
class Recovered:
    """The driver re-attached to the task after a client restart."""


@dataclass(frozen=True)
class RestartRequested:
    """A user asked to restart the running task (``alloc restart``)."""

    reason: str


@dataclass(frozen=True)
class SignalRequested:
    """A user is sending the running task a signal (``alloc signal``)."""

    signal: str


Event = (
    Start
    | SetupDone
    | Started
    | StartFailed
    | Exited
    | RestartDue
    | Kill
    | StopFailed
    | Recovered
    | RestartRequested
    | SignalRequested
)


# ---- instructions -------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSetup:
    pass


@dataclass(frozen=True)
class StartTask:
    pass


@dataclass(frozen=True)
class WaitTask:
    pass


@dataclass(frozen=True)
class StopTask:
    timeout: int  # nanoseconds
    signal: str
    delay: int = 0  # nanoseconds to wait first (shutdown_delay, on kills only)


@dataclass(frozen=True)
class DestroyTask:
    pass


@dataclass(frozen=True)
class ScheduleRestart:
    delay: int  # nanoseconds


@dataclass(frozen=True)
class CancelRestart:
    pass


@dataclass(frozen=True)
class UpdateState:
    state: TaskState


Instruction = (
    RunSetup
    | StartTask
    | WaitTask
    | StopTask
    | DestroyTask
    | ScheduleRestart
    | CancelRestart
    | UpdateState
)


def rfc3339(ns: int) -> str:
    dt = datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class TaskRunnerState:
    """One task's lifecycle. ``handle(event, now)`` returns the instructions to run."""

    def __init__(
        self,
        task: Task,
        job_type: str,
        *,
        restart_policy: RestartPolicy | None = None,
        max_kill_timeout: int = 30 * SECOND,
        now: int = 0,
        rng: random.Random | None = None,
        state: TaskState | None = None,
    ) -> None:
        self.task = task
        policy = restart_policy or task.restart_policy or RestartPolicy()
        self.tracker = RestartTracker(policy, job_type, task.lifecycle, now=now, rng=rng)
        timeout = task.kill_timeout or DEFAULT_KILL_TIMEOUT
        self.kill_timeout = min(timeout, max_kill_timeout)
        self.kill_signal = task.kill_signal
        self.state = state or TaskState()
        self.phase = "new"
        self._kill: Kill | None = None
        self._setup_again = False  # the last setup failed to download an artifact

    @property
    def dead(self) -> bool:
        return self.phase == "dead"

    @property
    def running(self) -> bool:
        """The task is up and may be restarted or signalled."""
        return self.phase == "running"

    def handle(self, event: Event, now: int) -> list[Instruction]:
        if self.dead:
            return []
        if isinstance(event, Kill):
            return self._on_kill(event, now)
        match (self.phase, event):
            case ("new", Start()):
                self._append(ev.received(now), ev.task_setup(now))
                return self._setup(now)
            case ("new", Recovered()):
                self.phase = "running"
                self.state.state = TASK_STATE_RUNNING
                return [self._update(), WaitTask()]
            case ("setup", SetupDone(error=error, artifact_error=artifact_error)):
                return self._on_setup_done(error, artifact_error, now)
            case ("starting", Started()):
                return self._on_started(now)
            case ("starting", StartFailed(error=error, recoverable=recoverable)):
                self._append(ev.driver_failure(now, error))
                if self._kill is not None:
                    return self._die(now, ev.killed(now))
                self.tracker.set_start_error(recoverable)
                return self._decide(now, [])
            case ("running" | "killing" | "restarting", Exited(result=result)):
                return self._on_exited(result, now)
            case ("killing", StopFailed(error=error)):
                return [DestroyTask(), *self._die(now, ev.killed(now, error))]
            case ("restarting", StopFailed()):
                self.phase = "running"  # the task is still up; the restart did not happen
                self.tracker.get_state(now)  # forget the trigger
                return []
            case ("running", RestartRequested(reason=reason)):
                self._append(ev.restart_signaled(now, reason))
                self.tracker.set_restart_triggered()
                self.phase = "restarting"
                return [self._update(), StopTask(self.kill_timeout, self.kill_signal)]
            case ("running", SignalRequested(signal=signal)):
                self._append(ev.signaling(now, signal))
                return [self._update()]
            case ("restart_wait", RestartDue()):
                if self._setup_again:
                    return self._setup(now)
                self.phase = "starting"
                return [StartTask()]
        return []

    def _setup(self, now: int) -> list[Instruction]:
        if self.task.artifacts:
            self._append(ev.downloading_artifacts(now))
        self.phase = "setup"
        return [self._update(), RunSetup()]

    def _on_setup_done(self, error: str, artifact_error: str, now: int) -> list[Instruction]:
        if self._kill is not None:
            return self._die(now, ev.killed(now))
        if error:
            return self._die(now, ev.setup_failure(now, error))
        self._setup_again = bool(artifact_error)
        if artifact_error:  # Nomad: recoverable, counted against the restart policy
            self._append(ev.artifact_download_failed(now, artifact_error))
            self.tracker.set_start_error(recoverable=True)
            return self._decide(now, [])
        self.phase = "starting"
        return [StartTask()]

    def _on_started(self, now: int) -> list[Instruction]:
        self.state.state = TASK_STATE_RUNNING
        if not self.state.started_at:
            self.state.started_at = rfc3339(now)
        self._append(ev.started(now))
        self.phase = "running"
        if self._kill is None:
            return [self._update(), WaitTask()]
        kill, self._kill = self._kill, None
        return [WaitTask(), *self._on_kill(kill, now)]

    def _on_exited(self, result: ExitResult, now: int) -> list[Instruction]:
        self._append(
            ev.terminated(
                now, result.exit_code, result.signal, result.err, oom_killed=result.oom_killed
            )
        )
        if self.phase == "killing":
            return [DestroyTask(), *self._die(now, ev.killed(now))]
        self.tracker.set_exit(result.successful())
        return self._decide(now, [DestroyTask()])

    def _on_kill(self, kill: Kill, now: int) -> list[Instruction]:
        if self.phase in ("setup", "starting"):
            self._kill = kill  # acted on when setup or start completes
            return []
        if self.phase == "new":
            return self._die(now, ev.killed(now))
        if self.phase == "restart_wait":
            return [CancelRestart(), *self._die(now, ev.killed(now))]
        if self.phase in ("running", "restarting"):
            stopping = self.phase == "restarting"  # a stop is already under way
            self.phase = "killing"
            self.tracker.set_killed()
            self._append(ev.killing(now, self.kill_timeout, kill.reason, kill.failed_sibling))
            if stopping:
                return [self._update()]
            delay = self.task.shutdown_delay
            return [self._update(), StopTask(self.kill_timeout, self.kill_signal, delay)]
        return []

    def _decide(self, now: int, before: list[Instruction]) -> list[Instruction]:
        decision: RestartDecision = self.tracker.get_state(now)
        if decision.state == TASK_RESTARTING:
            self._append(ev.restarting(now, decision.delay, decision.reason))
            self.state.state = TASK_STATE_PENDING
            self.state.restarts += 1
            self.state.last_restart = rfc3339(now)
            self.phase = "restart_wait"
            return [*before, self._update(), ScheduleRestart(decision.delay)]
        if decision.state == TASK_NOT_RESTARTING:
            return [*before, *self._die(now, ev.not_restarting(now, decision.reason))]
        return [*before, *self._die(now, None)]

    def _die(self, now: int, event: TaskEvent | None) -> list[Instruction]:
        if event is not None:
            self._append(event)
        self.state.state = TASK_STATE_DEAD
        self.state.finished_at = rfc3339(now)
        self.phase = "dead"
        return [self._update()]

    def _append(self, *events: TaskEvent) -> None:
        for event in events:
            if event.fails_task:
                self.state.failed = True
            self.state.events.append(event)
        del self.state.events[:-MAX_EVENTS]

    def _update(self) -> UpdateState:
        return UpdateState(clone(self.state))
