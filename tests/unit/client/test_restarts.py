"""RestartTracker follows Nomad's decision order exactly (restarts.go GetState)."""

from __future__ import annotations

import random

import pytest

from nomadic.client.restarts import (
    REASON_DELAY,
    REASON_NO_RESTARTS_ALLOWED,
    REASON_UNRECOVERABLE,
    REASON_WITHIN_POLICY,
    RestartTracker,
    restart_on_success,
)
from nomadic.structs import RestartPolicy, TaskLifecycle
from nomadic.structs.consts import MINUTE, SECOND

POLICY = RestartPolicy(attempts=2, interval=MINUTE, delay=SECOND, mode="fail")


class FixedRng(random.Random):
    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
        return self.value


def tracker(
    policy: RestartPolicy = POLICY, job_type: str = "service", jitter: int = 0
) -> RestartTracker:
    return RestartTracker(policy, job_type, now=0, rng=FixedRng(jitter))


@pytest.mark.parametrize(
    ("job_type", "lifecycle", "expected"),
    [
        ("service", None, True),
        ("system", None, True),
        ("batch", None, False),
        ("sysbatch", None, False),
        ("service", TaskLifecycle(hook="prestart", sidecar=False), False),
        ("batch", TaskLifecycle(hook="prestart", sidecar=True), True),
        ("service", TaskLifecycle(hook="poststart", sidecar=True), True),
        ("service", TaskLifecycle(hook="poststop", sidecar=True), False),
    ],
    ids=[
        "service",
        "system",
        "batch",
        "sysbatch",
        "prestart",
        "prestart-sidecar",
        "poststart-sidecar",
        "poststop",
    ],
)
def test_restart_on_success(job_type: str, lifecycle: TaskLifecycle | None, expected: bool) -> None:
    assert restart_on_success(job_type, lifecycle) is expected


def test_killed_wins_over_everything() -> None:
    t = tracker().set_exit(False).set_restart_triggered().set_killed()
    d = t.get_state(1)
    assert (d.state, d.delay) == ("Killed", 0)


def test_user_restart_is_immediate() -> None:
    d = tracker().set_exit(False).set_restart_triggered().get_state(1)
    assert (d.state, d.delay) == ("Restarting", 0)


@pytest.mark.parametrize(
    ("job_type", "success", "expected"),
    [
        ("batch", True, "Terminated"),
        ("batch", False, "Not Restarting"),
        ("service", True, "Not Restarting"),
    ],
    ids=["batch-success", "batch-failure", "service-success"],
)
def test_zero_attempts(job_type: str, success: bool, expected: str) -> None:
    policy = RestartPolicy(attempts=0, interval=MINUTE, delay=SECOND, mode="fail")
    d = tracker(policy, job_type).set_exit(success).get_state(1)
    assert (d.state, d.reason) == (expected, REASON_NO_RESTARTS_ALLOWED)


def test_not_a_failure_gives_no_decision() -> None:
    d = tracker().get_state(1)
    assert (d.state, d.delay) == ("", 0)


def test_unrecoverable_start_error() -> None:
    d = tracker().set_start_error(recoverable=False).get_state(1)
    assert (d.state, d.reason) == ("Not Restarting", REASON_UNRECOVERABLE)


def test_recoverable_start_error_restarts() -> None:
    d = tracker().set_start_error(recoverable=True).get_state(1)
    assert (d.state, d.delay, d.reason) == ("Restarting", SECOND, REASON_WITHIN_POLICY)


def test_batch_success_terminates() -> None:
    d = tracker(job_type="batch").set_exit(True).get_state(1)
    assert d.state == "Terminated"


def test_service_success_restarts() -> None:
    d = tracker(job_type="service").set_exit(True).get_state(1)
    assert d.state == "Restarting"


def test_jitter_is_up_to_a_quarter_of_delay() -> None:
    d = tracker(jitter=SECOND - 1).set_exit(False).get_state(1)
    assert d.delay == SECOND + int((SECOND - 1) * 0.25)


def test_mode_fail_after_attempts() -> None:
    t = tracker()
    states = [t.set_exit(False).get_state(i).state for i in (1, 2, 3)]
    assert states == ["Restarting", "Restarting", "Not Restarting"]
    assert t.set_exit(False).get_state(4).reason == (
        'Exceeded allowed attempts 2 in interval 1m0s and mode is "fail"'
    )


def test_mode_delay_waits_for_interval_end() -> None:
    policy = RestartPolicy(attempts=1, interval=MINUTE, delay=SECOND, mode="delay")
    t = tracker(policy)
    assert t.set_exit(False).get_state(10 * SECOND).state == "Restarting"
    d = t.set_exit(False).get_state(20 * SECOND)
    assert (d.state, d.delay, d.reason) == ("Restarting", 40 * SECOND, REASON_DELAY)


def test_interval_elapsed_resets_the_count() -> None:
    t = tracker()
    for now in (1, 2):
        t.set_exit(False).get_state(now)
    d = t.set_exit(False).get_state(MINUTE + 5)
    assert d.state == "Restarting" and t.count == 1
