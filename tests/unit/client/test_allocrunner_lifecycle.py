"""Task lifecycle ordering in the pure allocation state machine (prestart, sidecars,
poststart, poststop), asserted as the exact start and kill instructions it returns."""

from __future__ import annotations

import copy

from nomadic.client.allocrunner.state import (
    SIDECARS_DONE_REASON,
    AllocDirReady,
    AllocRunnerState,
    AllocStart,
    AllocUpdated,
    Instruction,
    KillTask,
    StartTask,
    TaskUpdated,
)
from nomadic.structs import Allocation, Job, Task, TaskGroup, TaskLifecycle, TaskState


def task(name: str, hook: str = "", sidecar: bool = False) -> Task:
    lifecycle = TaskLifecycle(hook=hook, sidecar=sidecar) if hook else None
    return Task(name=name, lifecycle=lifecycle)


def machine(*tasks: Task) -> tuple[AllocRunnerState, list[Instruction]]:
    group = TaskGroup(name="g", tasks=list(tasks))
    a = Allocation(id="a1", task_group="g", job=Job(id="j", task_groups=[group]))
    m = AllocRunnerState(a, group)
    m.handle(AllocStart(), 1)
    return m, m.handle(AllocDirReady(), 2)


def update(m: AllocRunnerState, name: str, state: str, failed: bool = False) -> list[object]:
    out = m.handle(TaskUpdated(name, TaskState(state=state, failed=failed)), 3)
    return [i for i in out if isinstance(i, StartTask | KillTask)]


FULL = (
    task("init", "prestart"),
    task("proxy", "prestart", sidecar=True),
    task("main"),
    task("after", "poststart"),
    task("cleanup", "poststop"),
)


def test_prestart_tasks_start_first_and_main_waits_for_them() -> None:
    m, out = machine(*FULL)
    assert out == [StartTask("init"), StartTask("proxy")]
    assert update(m, "proxy", "running") == []  # init has not finished yet
    assert update(m, "init", "dead") == [StartTask("main")]


def test_poststart_after_main_runs_then_sidecars_killed_then_poststop() -> None:
    m, _ = machine(*FULL)
    update(m, "proxy", "running")
    update(m, "init", "dead")
    assert update(m, "main", "running") == [StartTask("after")]
    update(m, "after", "running")
    assert update(m, "after", "dead") == []
    assert update(m, "main", "dead") == [KillTask("proxy", SIDECARS_DONE_REASON)]
    assert update(m, "proxy", "dead") == [StartTask("cleanup")]
    update(m, "cleanup", "dead")
    assert m.terminal


def test_failed_prestart_skips_main_but_runs_poststop() -> None:
    m, _ = machine(*FULL)
    update(m, "proxy", "running")
    out = update(m, "init", "dead", failed=True)
    assert out == [KillTask("proxy", "", "init")]
    assert m.states["main"].state == "dead" and m.states["after"].state == "dead"
    assert update(m, "proxy", "dead") == [StartTask("cleanup")]


def test_server_stop_runs_poststop_after_main_is_killed() -> None:
    m, out = machine(task("main"), task("cleanup", "poststop"))
    assert out == [StartTask("main")]
    update(m, "main", "running")
    stopped = copy.deepcopy(m.alloc)
    stopped.desired_status = "stop"
    assert m.handle(AllocUpdated(stopped), 4) == [KillTask("main")]
    assert update(m, "main", "dead") == [StartTask("cleanup")]


def test_prestart_sidecar_must_run_before_main() -> None:
    m, out = machine(task("proxy", "prestart", sidecar=True), task("main"))
    assert out == [StartTask("proxy")]
    assert update(m, "proxy", "running") == [StartTask("main")]
