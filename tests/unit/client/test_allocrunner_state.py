"""The pure allocation state machine: task states in, kills and status reports out."""

from __future__ import annotations

import copy

import pytest

from nomadic.client.allocrunner.state import (
    AllocDirReady,
    AllocRunnerState,
    AllocStart,
    AllocUpdated,
    BuildAllocDir,
    KillTask,
    ReportStatus,
    StartTask,
    TaskUpdated,
    client_status,
)
from nomadic.structs import Allocation, Job, Task, TaskGroup, TaskState


def alloc(*tasks: Task) -> Allocation:
    group = TaskGroup(name="g", tasks=list(tasks))
    return Allocation(id="a1", task_group="g", job=Job(id="j", task_groups=[group]))


def started(*names: str, leader: str = "") -> AllocRunnerState:
    a = alloc(*(Task(name=n, leader=n == leader) for n in names))
    assert a.job is not None
    m = AllocRunnerState(a, a.job.task_groups[0])
    assert m.handle(AllocStart(), 1) == [BuildAllocDir()]
    assert m.handle(AllocDirReady(), 2) == [StartTask(n) for n in names]
    return m


def ts(state: str, failed: bool = False) -> TaskState:
    return TaskState(state=state, failed=failed)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"a": ts("pending")}, "pending"),
        ({"a": ts("running"), "b": ts("pending")}, "running"),
        ({"a": ts("dead"), "b": ts("dead")}, "complete"),
        ({"a": ts("dead", failed=True), "b": ts("running")}, "failed"),
        ({"a": ts("dead"), "b": ts("running")}, "running"),
    ],
    ids=["pending", "running", "complete", "failed-wins", "one-done"],
)
def test_client_status(states: dict[str, TaskState], expected: str) -> None:
    assert client_status(states)[0] == expected


def test_task_update_reports_status() -> None:
    m = started("web")
    out = m.handle(TaskUpdated("web", ts("running")), 3)
    assert len(out) == 1 and isinstance(out[0], ReportStatus)
    assert (out[0].update.client_status, out[0].update.client_description) == (
        "running",
        "Tasks are running",
    )


def test_failed_task_kills_siblings() -> None:
    m = started("web", "sidecar")
    m.handle(TaskUpdated("sidecar", ts("running")), 3)
    out = m.handle(TaskUpdated("web", ts("dead", failed=True)), 4)
    assert out[:-1] == [KillTask("sidecar", "", failed_sibling="web")]
    assert isinstance(out[-1], ReportStatus) and out[-1].update.client_status == "failed"


def test_dead_leader_kills_the_others() -> None:
    m = started("main", "helper", leader="main")
    m.handle(TaskUpdated("helper", ts("running")), 3)
    out = m.handle(TaskUpdated("main", ts("dead")), 4)
    assert out[:-1] == [KillTask("helper", "Leader Task Dead")]


def test_server_stop_kills_every_live_task_once() -> None:
    m = started("a", "b")
    m.handle(TaskUpdated("a", ts("running")), 3)
    m.handle(TaskUpdated("b", ts("dead")), 4)
    stopped = copy.deepcopy(m.alloc)
    stopped.desired_status = "stop"
    assert m.handle(AllocUpdated(stopped), 5) == [KillTask("a")]
    assert m.handle(AllocUpdated(stopped), 6) == []


def test_alloc_dir_failure_fails_every_task() -> None:
    a = alloc(Task(name="a"))
    assert a.job is not None
    m = AllocRunnerState(a, a.job.task_groups[0])
    m.handle(AllocStart(), 1)
    out = m.handle(AllocDirReady(error="read-only file system"), 2)
    assert isinstance(out[0], ReportStatus) and out[0].update.client_status == "failed"
    assert out[0].update.task_states["a"].events[-1].type == "Setup Failure"


def test_alloc_stopped_before_start_never_starts_tasks() -> None:
    a = alloc(Task(name="a"))
    a.desired_status = "stop"
    assert a.job is not None
    m = AllocRunnerState(a, a.job.task_groups[0])
    out = m.handle(AllocStart(), 1)
    assert isinstance(out[0], ReportStatus) and out[0].update.client_status == "complete"
