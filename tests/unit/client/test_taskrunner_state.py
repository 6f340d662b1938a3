"""The pure task state machine: events in, exact instructions out."""

from __future__ import annotations

import random

from nomadic.client.taskrunner.state import (
    CancelRestart,
    DestroyTask,
    Exited,
    Kill,
    RestartDue,
    RunSetup,
    ScheduleRestart,
    SetupDone,
    Start,
    Started,
    StartFailed,
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


class NoJitter(random.Random):
    def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
        return 0


def machine(job_type: str = "batch", attempts: int = 2, **task: object) -> TaskRunnerState:
    policy = RestartPolicy(attempts=attempts, interval=MINUTE, delay=SECOND, mode="fail")
    return TaskRunnerState(
        Task(name="t", driver="raw_exec", restart_policy=policy, **task),  # type: ignore[arg-type]
        job_type,
        max_kill_timeout=30 * SECOND,
        rng=NoJitter(),
    )


def kinds(instructions: list[object]) -> list[type]:
    return [type(i) for i in instructions]


def running(m: TaskRunnerState) -> TaskRunnerState:
    m.handle(Start(), 1)
    m.handle(SetupDone(), 2)
    m.handle(Started(), 3)
    return m


def test_start_sets_up_then_starts_then_waits() -> None:
    m = machine()
    out = m.handle(Start(), 1)
    assert kinds(out) == [UpdateState, RunSetup]
    assert [e.type for e in out[0].state.events] == ["Received", "Task Setup"]  # type: ignore[union-attr]
    assert m.handle(SetupDone(), 2) == [StartTask()]
    out = m.handle(Started(), 3)
    assert kinds(out) == [UpdateState, WaitTask]
    assert m.state.state == "running" and m.state.started_at


def test_batch_success_is_dead_not_failed() -> None:
    m = running(machine())
    out = m.handle(Exited(ExitResult(exit_code=0)), 4)
    assert out == [DestroyTask(), UpdateState(m.state)]
    assert (m.state.state, m.state.failed) == ("dead", False)
    assert m.state.events[-1].type == "Terminated"
    assert m.state.events[-1].display_message == "Exit Code: 0"


def test_failure_restarts_with_delay_then_fails() -> None:
    m = running(machine())
    out = m.handle(Exited(ExitResult(exit_code=3)), 4)
    assert out == [DestroyTask(), UpdateState(m.state), ScheduleRestart(SECOND)]
    assert (m.state.state, m.state.restarts) == ("pending", 1)
    assert m.state.events[-1].display_message == "Task restarting in 1s"
    assert m.handle(RestartDue(), 5) == [StartTask()]
    m.handle(Started(), 6)
    m.handle(Exited(ExitResult(exit_code=3)), 7)
    m.handle(RestartDue(), 8)
    m.handle(Started(), 9)
    out = m.handle(Exited(ExitResult(exit_code=3)), 10)
    assert out == [DestroyTask(), UpdateState(m.state)]
    assert (m.state.state, m.state.failed, m.state.restarts) == ("dead", True, 2)
    types = [e.type for e in m.state.events]
    assert types.count("Restarting") == 2 and types[-1] == "Not Restarting"
    assert m.state.events[-1].fails_task


def test_kill_while_running_stops_with_timeout_and_signal() -> None:
    m = running(machine(kill_timeout=3 * SECOND, kill_signal="SIGTERM"))
    out = m.handle(Kill(), 4)
    assert out == [UpdateState(m.state), StopTask(3 * SECOND, "SIGTERM")]
    assert m.state.events[-1].display_message == "Sent interrupt. Waiting 3s before force killing"
    out = m.handle(Exited(ExitResult(exit_code=130, signal=2)), 5)
    assert out == [DestroyTask(), UpdateState(m.state)]
    assert [e.type for e in m.state.events][-3:] == ["Killing", "Terminated", "Killed"]
    assert (m.state.state, m.state.failed) == ("dead", False)


def test_kill_timeout_is_capped_by_max_kill_timeout() -> None:
    m = running(machine(kill_timeout=600 * SECOND))
    assert m.handle(Kill(), 4)[-1] == StopTask(30 * SECOND, "")


def test_kill_during_setup_is_applied_after_setup() -> None:
    m = machine()
    m.handle(Start(), 1)
    assert m.handle(Kill(), 2) == []
    out = m.handle(SetupDone(), 3)
    assert out == [UpdateState(m.state)]
    assert m.state.state == "dead" and m.state.events[-1].type == "Killed"


def test_kill_while_starting_stops_once_started() -> None:
    m = machine()
    m.handle(Start(), 1)
    m.handle(SetupDone(), 2)
    assert m.handle(Kill(), 3) == []
    out = m.handle(Started(), 4)
    assert kinds(out) == [WaitTask, UpdateState, StopTask]


def test_kill_during_restart_wait_cancels_restart() -> None:
    m = running(machine())
    m.handle(Exited(ExitResult(exit_code=1)), 4)
    out = m.handle(Kill(), 5)
    assert out == [CancelRestart(), UpdateState(m.state)]
    assert m.state.state == "dead"


def test_sibling_failure_event() -> None:
    m = running(machine())
    m.handle(Kill(failed_sibling="web"), 4)
    event = m.state.events[-1]
    assert (event.type, event.display_message) == (
        "Sibling Task Failed",
        "Task's sibling 'web' failed",
    )


def test_driver_failure_unrecoverable_fails_task() -> None:
    m = machine()
    m.handle(Start(), 1)
    m.handle(SetupDone(), 2)
    out = m.handle(StartFailed("driver 'x' not found", recoverable=False), 3)
    assert out == [UpdateState(m.state)]
    assert [e.type for e in m.state.events][-2:] == ["Driver Failure", "Not Restarting"]
    assert m.state.events[-1].restart_reason == "Error was unrecoverable"
    assert m.state.failed


def test_setup_failure_fails_task() -> None:
    m = machine()
    m.handle(Start(), 1)
    out = m.handle(SetupDone(error="disk full"), 2)
    assert out == [UpdateState(m.state)]
    assert m.state.events[-1].type == "Setup Failure" and m.state.failed


def test_stop_failure_destroys_and_reports_kill_error() -> None:
    m = running(machine())
    m.handle(Kill(), 4)
    out = m.handle(StopFailed("no such process"), 5)
    assert out == [DestroyTask(), UpdateState(m.state)]
    assert m.state.events[-1].kill_error == "no such process"


def test_events_after_death_are_ignored() -> None:
    m = running(machine())
    m.handle(Exited(ExitResult(exit_code=0)), 4)
    assert m.handle(Kill(), 5) == [] and m.handle(Started(), 6) == []


def test_only_last_ten_events_are_kept() -> None:
    m = running(machine(attempts=10))
    for i in range(6):
        m.handle(Exited(ExitResult(exit_code=1)), 10 + i * 3)
        m.handle(RestartDue(), 11 + i * 3)
        m.handle(Started(), 12 + i * 3)
    assert len(m.state.events) == 10
