"""When a failed allocation may be replaced: delays, attempt accounting, the tracker.

Follows Nomad's ``Allocation.NextDelay``, ``NextRescheduleTime`` and the generic scheduler's
``updateRescheduleTracker``. All times are Unix nanoseconds; ``now`` is always passed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import msgspec

from nomadic.structs import Allocation, RescheduleEvent, ReschedulePolicy, RescheduleTracker
from nomadic.structs.consts import (
    ALLOC_CLIENT_COMPLETE,
    ALLOC_CLIENT_FAILED,
    ALLOC_DESIRED_STOP,
    DELAY_EXPONENTIAL,
    DELAY_FIBONACCI,
    TASK_STATE_DEAD,
)

__all__ = [
    "MAX_PAST_RESCHEDULE_EVENTS",
    "last_event_time",
    "next_delay",
    "next_reschedule_time",
    "ran_successfully",
    "reschedule_policy",
    "update_reschedule_tracker",
]

# With unlimited rescheduling only this many past events are kept.
MAX_PAST_RESCHEDULE_EVENTS: Final = 5


def reschedule_policy(alloc: Allocation) -> ReschedulePolicy | None:
    if alloc.job is None:
        return None
    tg = alloc.job.lookup_task_group(alloc.task_group)
    return tg.reschedule_policy if tg is not None else None


def _parse_time(text: str) -> int:
    """RFC 3339 (nanosecond precision allowed) -> Unix ns; 0 when empty or unparsable."""
    if not text:
        return 0
    text = text.strip().replace("Z", "+00:00")
    frac_ns = 0
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits) :]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        text = head + tz
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return 0
    return int(stamp.timestamp()) * 1_000_000_000 + frac_ns


def last_event_time(alloc: Allocation) -> int:
    """When the alloc last changed: the latest task FinishedAt, else its ModifyTime."""
    latest = max((_parse_time(s.finished_at) for s in alloc.task_states.values()), default=0)
    return latest or alloc.modify_time


def ran_successfully(alloc: Allocation) -> bool:
    """Every task finished without failing (a batch alloc that must not be replaced)."""
    if alloc.client_status == ALLOC_CLIENT_COMPLETE:
        return True
    if not alloc.task_states:
        return False
    return all(s.state == TASK_STATE_DEAD and not s.failed for s in alloc.task_states.values())


def next_delay(alloc: Allocation) -> int:
    """The delay before this alloc's replacement, per its policy's delay function."""
    policy = reschedule_policy(alloc)
    if policy is None:
        return 0
    events = alloc.reschedule_tracker.events if alloc.reschedule_tracker else []
    if not events:
        return policy.delay
    delay = policy.delay
    if policy.delay_function == DELAY_EXPONENTIAL:
        delay = events[-1].delay * 2
    elif policy.delay_function == DELAY_FIBONACCI:
        if len(events) >= 2:
            n1, n2 = events[-1].delay, events[-2].delay
            # a series that hit the ceiling and was reset starts over
            delay = n1 if (n2 == policy.max_delay and n1 == policy.delay) else n1 + n2
    else:
        return delay
    if policy.max_delay > 0 and delay > policy.max_delay:
        delay = policy.max_delay
        # the alloc ran longer than the ceiling since its last reschedule: start again
        if last_event_time(alloc) - events[-1].reschedule_time > delay:
            delay = policy.delay
    return delay


def _attempts_in_interval(tracker: RescheduleTracker, interval: int, fail_time: int) -> int:
    return sum(1 for e in tracker.events if fail_time - e.reschedule_time < interval)


def next_reschedule_time(alloc: Allocation) -> tuple[int, bool]:
    """(when the replacement may be placed, whether the alloc may be rescheduled at all)."""
    fail_time = last_event_time(alloc)
    policy = reschedule_policy(alloc)
    if (
        alloc.desired_status == ALLOC_DESIRED_STOP
        or alloc.client_status != ALLOC_CLIENT_FAILED
        or fail_time == 0
        or policy is None
    ):
        return 0, False
    delay = next_delay(alloc)
    when = fail_time + delay
    eligible = policy.unlimited or (policy.attempts > 0 and alloc.reschedule_tracker is None)
    tracker = alloc.reschedule_tracker
    if policy.attempts > 0 and tracker is not None and tracker.events:
        attempted = _attempts_in_interval(tracker, policy.interval, fail_time)
        eligible = attempted < policy.attempts and delay < policy.interval
    elif policy.attempts > 0 and tracker is not None and not policy.unlimited:
        eligible = True
    return when, eligible


def update_reschedule_tracker(new: Allocation, prev: Allocation, now: int) -> None:
    """Carry the predecessor's recent reschedule events over and add this one."""
    policy = reschedule_policy(prev)
    events: list[RescheduleEvent] = []
    if prev.reschedule_tracker is not None:
        past = prev.reschedule_tracker.events
        if policy is not None and policy.attempts > 0:
            interval = policy.interval
            events = [
                msgspec.structs.replace(e)
                for e in past
                if interval > 0 and now - e.reschedule_time <= interval
            ]
        else:
            events = [msgspec.structs.replace(e) for e in past[-MAX_PAST_RESCHEDULE_EVENTS:]]
    events.append(
        RescheduleEvent(
            reschedule_time=now,
            prev_alloc_id=prev.id,
            prev_node_id=prev.node_id,
            delay=next_delay(prev),
        )
    )
    new.reschedule_tracker = RescheduleTracker(events=events)
