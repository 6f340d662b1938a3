"""Request and response bodies of server endpoints (Nomad's ``api`` shapes)."""

from __future__ import annotations

import msgspec

from .alloc import AllocListStub, AllocMetric
from .codec import Base
from .diff import JobDiff
from .evaluation import Evaluation
from .job import Job
from .node import DrainSpec


class JobRegisterRequest(Base):
    job: Job
    enforce_index: bool = False
    job_modify_index: int = 0
    policy_override: bool = False
    preserve_counts: bool = False


class JobRegisterResponse(Base):
    eval_id: str = ""
    eval_create_index: int = 0
    job_modify_index: int = 0
    warnings: str = ""
    index: int = 0


class JobDeregisterResponse(Base):
    eval_id: str = ""
    eval_create_index: int = 0
    job_modify_index: int = 0
    index: int = 0


class AllocStopResponse(Base):
    eval_id: str = ""
    index: int = 0


class NodeRegisterResponse(Base):
    heartbeat_ttl: int = 0  # nanoseconds
    index: int = 0
    leader_rpc_addr: str = ""
    num_nodes: int = 0


class NodeUpdateResponse(Base):
    heartbeat_ttl: int = 0
    index: int = 0


class ServerMember(Base):
    name: str = ""
    addr: str = ""
    port: int = 0
    status: str = "alive"
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    protocol_min: int = 1
    protocol_max: int = 5
    protocol_cur: int = 2
    delegate_min: int = 2
    delegate_max: int = 5
    delegate_cur: int = 4


class JobPlanRequest(Base):
    job: Job
    diff: bool = False
    policy_override: bool = False


class DesiredUpdates(Base):
    """What the scheduler would do to one task group (PlanAnnotations.DesiredTGUpdates)."""

    ignore: int = 0
    place: int = 0
    migrate: int = 0
    stop: int = 0
    in_place_update: int = 0
    destructive_update: int = 0
    canary: int = 0
    preemptions: int = 0


class PlanAnnotations(Base):
    desired_tg_updates: dict[str, DesiredUpdates] = msgspec.field(
        default_factory=dict, name="DesiredTGUpdates"
    )
    preempted_allocs: list[AllocListStub] | None = None


ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, as Nomad sends it


class JobPlanResponse(Base):
    job_modify_index: int = 0
    created_evals: list[Evaluation] | None = None
    diff: JobDiff | None = None
    annotations: PlanAnnotations | None = None
    failed_tg_allocs: dict[str, AllocMetric] | None = msgspec.field(
        default=None, name="FailedTGAllocs"
    )
    next_periodic_launch: str = ZERO_TIME
    warnings: str = ""
    index: int = 0


class JobDispatchRequest(Base):
    """``POST /v1/job/:id/dispatch`` (Payload is base64 in JSON)."""

    job_id: str = ""
    namespace: str = ""
    payload: bytes | None = None
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    id_prefix_template: str = msgspec.field(default="", name="IdPrefixTemplate")
    idempotency_token: str = ""
    priority: int = 0


class JobDispatchResponse(Base):
    dispatched_job_id: str = ""
    eval_id: str = ""
    eval_create_index: int = 0
    job_create_index: int = 0
    index: int = 0


class PeriodicForceRequest(Base):
    job_id: str = ""
    namespace: str = ""


class PeriodicForceResponse(Base):
    eval_id: str = ""
    eval_create_index: int = 0
    index: int = 0


class NodeUpdateDrainRequest(Base):
    """``PUT /v1/node/:id/drain`` (Nomad's api.NodeUpdateDrainRequest); no DrainSpec = stop."""

    node_id: str = ""
    drain_spec: DrainSpec | None = None
    mark_eligible: bool = False
    meta: dict[str, str] = msgspec.field(default_factory=dict)


class NodeUpdateEligibilityRequest(Base):
    node_id: str = ""
    eligibility: str = ""


class NodeUpdateResponseEvals(Base):
    """What drain and eligibility changes answer (NodeDrainUpdateResponse and friends)."""

    node_modify_index: int = 0
    eval_ids: list[str] = msgspec.field(default_factory=list, name="EvalIDs")
    eval_create_index: int = 0
    index: int = 0


class JobRevertRequest(Base):
    job_id: str = ""
    namespace: str = ""
    job_version: int = 0
    enforce_prior_version: int | None = None


class JobScaleRequest(Base):
    """``POST /v1/job/:id/scale``: Target is ``{"Group": name}``."""

    job_id: str = ""
    namespace: str = ""
    target: dict[str, str] = msgspec.field(default_factory=dict)
    count: int | None = None
    message: str = ""
    error: bool = False
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    policy_override: bool = False


class TaskGroupScaleStatus(Base):
    desired: int = 0
    placed: int = 0
    running: int = 0
    healthy: int = 0
    unhealthy: int = 0
    events: list[dict[str, object]] = msgspec.field(default_factory=list)


class JobScaleStatusResponse(Base):
    job_id: str = ""
    namespace: str = ""
    job_create_index: int = 0
    job_modify_index: int = 0
    job_stopped: bool = False
    task_groups: dict[str, TaskGroupScaleStatus] = msgspec.field(default_factory=dict)


class SchedulerSetConfigResponse(Base):
    updated: bool = True
    index: int = 0
