"""The cluster-wide scheduler configuration (``/v1/operator/scheduler/configuration``)."""

from __future__ import annotations

import msgspec

from .codec import Base

__all__ = ["PreemptionConfig", "SchedulerConfiguration"]


class PreemptionConfig(Base):
    """Which schedulers may evict lower-priority allocations: only system jobs by default."""

    system_scheduler_enabled: bool = True
    sysbatch_scheduler_enabled: bool = msgspec.field(default=False, name="SysBatchSchedulerEnabled")
    batch_scheduler_enabled: bool = False
    service_scheduler_enabled: bool = False


class SchedulerConfiguration(Base):
    scheduler_algorithm: str = "binpack"
    preemption_config: PreemptionConfig = msgspec.field(default_factory=PreemptionConfig)
    memory_oversubscription_enabled: bool = False
    reject_job_registration: bool = False
    pause_eval_broker: bool = False
    create_index: int = 0
    modify_index: int = 0
