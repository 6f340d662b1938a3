"""AllocHealthTracker: task states decide deployment health (min_healthy_time, failures,
healthy_deadline), and the alloc runner machine reports the verdict with its status."""

from __future__ import annotations

import pytest

from nomadic.client.allocrunner.health import AllocHealthTracker
from nomadic.client.allocrunner.state import AllocRunnerState, HealthDecided, TaskUpdated
from nomadic.structs import (
    Allocation,
    AllocDeploymentStatus,
    Task,
    TaskGroup,
    TaskLifecycle,
    TaskState,
    UpdateStrategy,
)

S = 1_000_000_000


def group(health_check: str = "task_states") -> TaskGroup:
    return TaskGroup(
        name="g",
        tasks=[
            Task(name="main", driver="mock"),
            Task(name="init", driver="mock", lifecycle=TaskLifecycle(hook="prestart")),
        ],
        update=UpdateStrategy(
            max_parallel=1,
            health_check=health_check,
            min_healthy_time=2 * S,
            healthy_deadline=10 * S,
        ),
    )


def tracker(**alloc_fields: object) -> AllocHealthTracker | None:
    alloc = Allocation(id="a", deployment_id="d", **alloc_fields)  # type: ignore[arg-type]
    return AllocHealthTracker.for_alloc(alloc, group(), now=0)


def states(main: str, *, failed: bool = False) -> dict[str, TaskState]:
    return {"main": TaskState(state=main, failed=failed), "init": TaskState(state="dead")}


# (what happens: [(time s, main task state, failed)], time of the verdict check, verdict)
CASES = [
    ("running-long-enough", [(1, "running", False)], 3, True),
    ("not-yet-min-healthy-time", [(1, "running", False)], 2.5, None),
    (
        "restart-resets-the-wait",
        [(1, "running", False), (2, "pending", False), (3, "running", False)],
        4,
        None,
    ),
    ("task-failed", [(1, "dead", True)], 1, False),
    ("deadline-passed", [(1, "pending", False)], 10, False),
]


@pytest.mark.parametrize(
    ("history", "at", "verdict"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verdicts(history: list[tuple[float, str, bool]], at: float, verdict: bool | None) -> None:
    t = tracker()
    assert t is not None
    for when, state, failed in history:
        t.observe(states(state, failed=failed), int(when * S))
    assert t.verdict(int(at * S)) is verdict


def test_no_tracking_without_a_deployment_manual_checks_or_a_verdict() -> None:
    assert AllocHealthTracker.for_alloc(Allocation(id="a"), group(), 0) is None
    assert (
        AllocHealthTracker.for_alloc(Allocation(id="a", deployment_id="d"), group("manual"), 0)
        is None
    )
    assert tracker(deployment_status=AllocDeploymentStatus(healthy=True)) is None


def test_next_check_is_the_nearest_of_min_healthy_time_and_deadline() -> None:
    t = tracker()
    assert t is not None
    assert t.next_check(0) == 10.0
    t.observe(states("running"), 1 * S)
    assert t.next_check(1 * S) == 2.0


def test_the_machine_reports_the_verdict_with_every_later_status() -> None:
    alloc = Allocation(id="a", deployment_id="d")
    machine = AllocRunnerState(alloc, group())
    [report] = machine.handle(HealthDecided(True), 7)
    update = report.update  # type: ignore[attr-defined]
    assert update.deployment_status == AllocDeploymentStatus(healthy=True, timestamp=7)
    [*_, later] = machine.handle(
        TaskUpdated("main", TaskState(state="running")),
        8,
    )
    assert later.update.deployment_status.healthy is True  # type: ignore[attr-defined]
