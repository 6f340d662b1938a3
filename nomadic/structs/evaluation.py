"""Evaluation: a request to reconcile one job's desired and actual state."""

from __future__ import annotations

import msgspec

from .alloc import AllocMetric
from .codec import Base
from .consts import DEFAULT_NAMESPACE, EVAL_STATUS_PENDING


class Evaluation(Base):
    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    priority: int = 50
    type: str = ""
    triggered_by: str = ""
    job_id: str = ""
    job_modify_index: int = 0
    node_id: str = ""
    node_modify_index: int = 0
    deployment_id: str = ""
    status: str = EVAL_STATUS_PENDING
    status_description: str = ""
    wait: int = 0
    wait_until: int = 0
    next_eval: str = ""
    previous_eval: str = ""
    blocked_eval: str = ""
    failed_tg_allocs: dict[str, AllocMetric] = msgspec.field(
        default_factory=dict, name="FailedTGAllocs"
    )
    class_eligibility: dict[str, bool] = msgspec.field(default_factory=dict)
    escaped_computed_class: bool = False
    annotate_plan: bool = False
    queued_allocations: dict[str, int] = msgspec.field(default_factory=dict)
    snapshot_index: int = 0
    create_index: int = 0
    modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0

    def terminal(self) -> bool:
        return self.status in ("complete", "failed", "canceled")
