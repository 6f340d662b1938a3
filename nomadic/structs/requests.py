"""Request and response bodies of server endpoints (Nomad's ``api`` shapes)."""

from __future__ import annotations

import msgspec

from .codec import Base
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


class SchedulerSetConfigResponse(Base):
    updated: bool = True
    index: int = 0
