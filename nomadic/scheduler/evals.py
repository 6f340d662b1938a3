"""Evaluation bookkeeping shared by the generic and system schedulers: the retry loop,
the final status update and the blocked evaluation (Nomad's ``retryMax``, ``setStatus``
and ``createBlockedEval`` in ``scheduler/util.go``)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from nomadic.structs import AllocMetric, Evaluation, PlanResult
from nomadic.structs.consts import EVAL_STATUS_BLOCKED
from nomadic.structs.ids import new_id

__all__ = ["blocked_eval", "retry_max", "with_status"]


def retry_max(
    attempt: Callable[[], bool], last_result: Callable[[], PlanResult | None], limit: int
) -> bool:
    """Run ``attempt`` until it reports done; a plan that committed anything resets the count,
    ``limit`` attempts in a row without progress give up (False)."""
    attempts = 0
    while attempts < limit:
        if attempt():
            return True
        result = last_result()
        progress = result is not None and bool(result.node_update or result.node_allocation)
        attempts = 0 if progress else attempts + 1
    return False


def with_status(
    ev: Evaluation,
    status: str,
    desc: str,
    failed_tg_allocs: dict[str, AllocMetric],
    queued_allocs: dict[str, int],
    blocked: Evaluation | None,
) -> Evaluation:
    """``ev`` as the scheduler leaves it: status, failures, queued counts, its blocked eval."""
    return msgspec.structs.replace(
        ev,
        status=status,
        status_description=desc,
        failed_tg_allocs=dict(failed_tg_allocs),
        queued_allocations=dict(queued_allocs),
        blocked_eval=blocked.id if blocked else ev.blocked_eval,
    )


def blocked_eval(
    ev: Evaluation,
    failed_tg_allocs: dict[str, AllocMetric],
    now: int,
    *,
    triggered_by: str,
    description: str,
    class_eligibility: dict[str, bool],
    escaped: bool,
) -> Evaluation:
    """The blocked evaluation that retries ``ev``'s unplaced allocations when capacity
    appears (on an eligible class, or on any node when ``escaped``)."""
    return Evaluation(
        id=new_id(),
        namespace=ev.namespace,
        priority=ev.priority,
        type=ev.type,
        triggered_by=triggered_by,
        job_id=ev.job_id,
        job_modify_index=ev.job_modify_index,
        status=EVAL_STATUS_BLOCKED,
        status_description=description,
        previous_eval=ev.id,
        failed_tg_allocs=dict(failed_tg_allocs),
        class_eligibility=class_eligibility,
        escaped_computed_class=escaped,
        create_time=now,
        modify_time=now,
    )
