"""User-triggered restarts and signals in the pure task state machine (``alloc restart``,
``alloc signal``): Nomad's RestartTracker rule 2, exact events and instructions."""

from __future__ import annotations

import random

from nomadic.client.taskrunner.state import (
    DestroyTask,
    Exited,
    Kill,
    RestartDue,
    RestartRequested,
    ScheduleRestart,
    SetupDone,
    SignalRequested,
    Start,
    Started,
    StartTask,
    StopFailed,
    StopTask,
    TaskRunnerState,
    UpdateState,
    WaitTask,
)
from nomadic.plugin import ExitResult
from nomadic.structs import RestartPolicy, Task
from nomadic.structs.consts import MINUTE, SECOND


def running(attempts: int = 0) -> TaskRunnerState:
    policy = RestartPolicy(attempts=attempts, interval=MINUTE, delay=SECOND, mode="fail")
    m = TaskRunnerState(
        Task(name="t", driver="raw_exec", restart_policy=policy, kill_signal="SIGTERM"),
        "service",
        rng=random.Random(1),
    )
    m.handle(Start(), 1)
    m.handle(SetupDone(), 2)
    m.handle(Started(), 3)
    return m


def kinds(instructions: list[object]) -> list[type]:
    return [type(i) for i in instructions]


def test_restart_stops_then_restarts_at_once_even_when_policy_allows_none() -> None:
    m = running(attempts=0)
    out = m.handle(RestartRequested("User requested task to restart"), 10)
    assert kinds(out) == [UpdateState, StopTask]
    assert out[1] == StopTask(5 * SECOND, "SIGTERM")
    assert m.state.events[-1].type == "Restart Signaled"
    assert m.state.events[-1].display_message == "User requested task to restart"
    out = m.handle(Exited(ExitResult(exit_code=143, signal=15)), 11)
    assert kinds(out) == [DestroyTask, UpdateState, ScheduleRestart]
    assert out[2] == ScheduleRestart(0)
    assert [e.type for e in m.state.events[-2:]] == ["Terminated", "Restarting"]
    assert m.state.events[-1].display_message == "Task restarting in 0s"
    assert (m.state.state, m.state.failed, m.state.restarts) == ("pending", False, 1)
    assert m.tracker.count == 0  # not counted against the restart policy
    assert kinds(m.handle(RestartDue(), 12)) == [StartTask]
    assert kinds(m.handle(Started(), 13)) == [UpdateState, WaitTask]
    assert m.running


def test_restart_is_refused_unless_running() -> None:
    m = running()
    m.handle(RestartRequested("x"), 10)
    assert m.handle(RestartRequested("again"), 11) == []  # already restarting
    assert not m.running


def test_kill_during_restart_wins_and_does_not_stop_twice() -> None:
    m = running()
    m.handle(RestartRequested("x"), 10)
    out = m.handle(Kill(), 11)
    assert kinds(out) == [UpdateState]
    out = m.handle(Exited(ExitResult(exit_code=0)), 12)
    assert kinds(out) == [DestroyTask, UpdateState]
    assert m.dead and m.state.events[-1].type == "Killed"


def test_failed_stop_keeps_the_task_running() -> None:
    m = running()
    m.handle(RestartRequested("x"), 10)
    assert m.handle(StopFailed("boom"), 11) == []
    assert m.running


def test_signal_records_an_event() -> None:
    m = running()
    out = m.handle(SignalRequested("SIGUSR1"), 10)
    assert kinds(out) == [UpdateState]
    event = m.state.events[-1]
    assert (event.type, event.task_signal) == ("Signaling", "SIGUSR1")
    assert event.display_message == "Task being sent signal SIGUSR1"
