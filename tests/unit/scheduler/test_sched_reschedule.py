"""Rescheduling failed allocations: delays, attempts, now vs later, the tracker and links."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.scheduler.reschedule import next_delay, next_reschedule_time
from nomadic.structs import (
    Allocation,
    Job,
    Plan,
    RescheduleEvent,
    ReschedulePolicy,
    RescheduleTracker,
)
from nomadic.structs.consts import HOUR, MINUTE, SECOND
from nomadic.testing.factories import mock_alloc, mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NOW = 1_700_000_000 * SECOND


def _job(policy: ReschedulePolicy, count: int = 1) -> Job:
    base = mock_job()
    tg = msgspec.structs.replace(base.task_groups[0], count=count, reschedule_policy=policy)
    return msgspec.structs.replace(base, task_groups=[tg])


def _failed(job: Job, delays: list[int], *, failed_at: int = NOW, gap: int = MINUTE) -> Allocation:
    """A failed alloc whose predecessors were rescheduled with ``delays`` (oldest first)."""
    events = [
        RescheduleEvent(
            reschedule_time=failed_at - gap * (len(delays) - i),
            prev_alloc_id=f"prev-{i}",
            prev_node_id=f"node-{i}",
            delay=d,
        )
        for i, d in enumerate(delays)
    ]
    return mock_alloc(
        job,
        client_status="failed",
        modify_time=failed_at,
        reschedule_tracker=RescheduleTracker(events=events) if events else None,
    )


S = SECOND


@pytest.mark.parametrize(
    ("function", "delay", "max_delay", "past", "expected"),
    [
        pytest.param("constant", 5 * S, 0, [], 5 * S, id="constant-first"),
        pytest.param("constant", 5 * S, 0, [5 * S, 5 * S], 5 * S, id="constant-later"),
        pytest.param("exponential", 5 * S, HOUR, [], 5 * S, id="exponential-first"),
        pytest.param("exponential", 5 * S, HOUR, [5 * S], 10 * S, id="exponential-second"),
        pytest.param(
            "exponential", 5 * S, HOUR, [5 * S, 10 * S, 20 * S], 40 * S, id="exponential-fourth"
        ),
        pytest.param(
            "exponential", 5 * S, 30 * S, [5 * S, 10 * S, 20 * S], 30 * S, id="exponential-capped"
        ),
        pytest.param("fibonacci", 5 * S, HOUR, [], 5 * S, id="fibonacci-first"),
        pytest.param("fibonacci", 5 * S, HOUR, [5 * S], 5 * S, id="fibonacci-second"),
        pytest.param("fibonacci", 5 * S, HOUR, [5 * S, 5 * S], 10 * S, id="fibonacci-third"),
        pytest.param(
            "fibonacci", 5 * S, HOUR, [5 * S, 5 * S, 10 * S, 15 * S], 25 * S, id="fibonacci-fifth"
        ),
        pytest.param(
            "fibonacci", 5 * S, 20 * S, [5 * S, 10 * S, 15 * S], 20 * S, id="fibonacci-capped"
        ),
        pytest.param("fibonacci", 5 * S, 20 * S, [20 * S, 5 * S], 5 * S, id="fibonacci-restarted"),
    ],
)
def test_next_delay(
    function: str, delay: int, max_delay: int, past: list[int], expected: int
) -> None:
    policy = ReschedulePolicy(
        delay=delay, delay_function=function, max_delay=max_delay, unlimited=True
    )
    # the last reschedule was 1s before the failure: well within any cap
    alloc = _failed(_job(policy), past, gap=SECOND)
    assert next_delay(alloc) == expected


def test_delay_resets_after_running_longer_than_the_cap() -> None:
    policy = ReschedulePolicy(
        delay=5 * S, delay_function="exponential", max_delay=40 * S, unlimited=True
    )
    alloc = _failed(_job(policy), [20 * S, 40 * S], gap=10 * MINUTE)
    assert next_delay(alloc) == 5 * S


@pytest.mark.parametrize(
    ("policy", "past", "eligible"),
    [
        pytest.param(
            ReschedulePolicy(
                attempts=2, interval=10 * MINUTE, delay=5 * S, delay_function="constant"
            ),
            [],
            True,
            id="first-attempt",
        ),
        pytest.param(
            ReschedulePolicy(
                attempts=2, interval=10 * MINUTE, delay=5 * S, delay_function="constant"
            ),
            [5 * S],
            True,
            id="second-attempt",
        ),
        pytest.param(
            ReschedulePolicy(
                attempts=2, interval=10 * MINUTE, delay=5 * S, delay_function="constant"
            ),
            [5 * S, 5 * S],
            False,
            id="attempts-used",
        ),
        pytest.param(
            ReschedulePolicy(delay=5 * S, delay_function="constant", unlimited=True),
            [5 * S] * 20,
            True,
            id="unlimited",
        ),
        pytest.param(ReschedulePolicy(attempts=0, interval=0), [], False, id="disabled"),
    ],
)
def test_reschedule_eligibility(policy: ReschedulePolicy, past: list[int], eligible: bool) -> None:
    alloc = _failed(_job(policy), past)
    when, ok = next_reschedule_time(alloc)
    assert ok is eligible
    if ok:
        assert when == NOW + next_delay(alloc)


def test_running_alloc_is_not_rescheduled() -> None:
    alloc = msgspec.structs.replace(_failed(mock_job(), []), client_status="running")
    assert next_reschedule_time(alloc) == (0, False)


# --- through the scheduler ---

POLICY = ReschedulePolicy(attempts=3, interval=HOUR, delay=5 * S, delay_function="constant")


def _setup(failed_at: int) -> tuple[Harness, Job, Allocation, str]:
    h = Harness()
    bad = h.state.upsert_node(mock_node())
    good = h.state.upsert_node(mock_node())
    job = h.state.upsert_job(_job(POLICY))
    alloc = mock_alloc(job, bad, client_status="failed", modify_time=failed_at)
    h.state.upsert_allocs([alloc])
    return h, job, alloc, good.id


def _plan_allocs(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_allocation.values() for a in allocs]


def test_failed_alloc_past_its_delay_is_replaced_now_on_another_node() -> None:
    h, job, failed, good = _setup(failed_at=NOW - 10 * S)
    h.process(mock_eval(job, triggered_by="alloc-failure"), clock=lambda: NOW)
    plan = h.plans[0]
    [new] = _plan_allocs(plan)
    assert new.node_id == good
    assert new.name == failed.name
    assert new.previous_allocation == failed.id
    assert new.reschedule_tracker == RescheduleTracker(
        events=[
            RescheduleEvent(
                reschedule_time=NOW,
                prev_alloc_id=failed.id,
                prev_node_id=failed.node_id,
                delay=5 * S,
            )
        ]
    )
    [stop] = [a for allocs in plan.node_update.values() for a in allocs]
    assert stop.id == failed.id
    assert stop.desired_description == "alloc was rescheduled because it failed"
    # the state links the failed alloc to its replacement
    assert h.state.alloc_by_id(failed.id).next_allocation == new.id


def test_failed_alloc_within_its_delay_gets_a_followup_eval() -> None:
    h, job, failed, _ = _setup(failed_at=NOW - 1 * S)
    ev = mock_eval(job, triggered_by="alloc-failure")
    h.process(ev, clock=lambda: NOW)
    [follow] = h.create_evals
    assert follow.triggered_by == "alloc-failure"
    assert follow.wait_until == NOW - 1 * S + 5 * S
    assert follow.previous_eval == ev.id
    assert follow.status == "pending"
    assert follow.status_description == "created for delayed rescheduling"
    [update] = _plan_allocs(h.plans[0])
    assert update.id == failed.id and update.followup_eval_id == follow.id
    assert h.evals[-1].status == "complete"

    # when the follow-up eval runs (even a little early), the alloc is replaced
    h.process(follow, clock=lambda: NOW)
    [new] = [a for a in _plan_allocs(h.plans[-1]) if a.id != failed.id]
    assert new.previous_allocation == failed.id


def test_alloc_out_of_attempts_is_left_failed() -> None:
    h, job, failed, _ = _setup(failed_at=NOW - 10 * S)
    events = [
        RescheduleEvent(reschedule_time=NOW - i * MINUTE, prev_alloc_id=f"p{i}", delay=5 * S)
        for i in range(1, 4)
    ]
    h.state.upsert_allocs(
        [msgspec.structs.replace(failed, reschedule_tracker=RescheduleTracker(events=events))]
    )
    h.process(mock_eval(job, triggered_by="alloc-failure"), clock=lambda: NOW)
    assert h.plans == []
    assert h.create_evals == []
