"""The Raft log format: an append-only :class:`MessageType` and one payload struct per type.

An entry is a msgpack :class:`Envelope` (format version, type, request ID, payload bytes, CRC);
the payload is the type's struct encoded with :mod:`nomadic.structs.codec`. Never renumber or
remove a message type: old logs and snapshots must still decode. The leader stamps every ID
and time into the payload before it is replicated, so applying it needs no clock.
"""

from __future__ import annotations

import zlib
from enum import IntEnum

import msgspec

from nomadic.structs import (
    Allocation,
    AllocUpdate,
    Deployment,
    DeploymentStatusUpdate,
    DesiredTransition,
    DrainStrategy,
    Evaluation,
    Job,
    Node,
    NodeEvent,
    PeriodicLaunch,
    SchedulerConfiguration,
    from_msgpack,
    to_msgpack,
)
from nomadic.structs.codec import Base

__all__ = [
    "ENTRY_VERSION",
    "PAYLOAD_TYPES",
    "AllocClientUpdate",
    "AllocDesiredTransitionUpdate",
    "ApplyPlanResults",
    "Barrier",
    "DeploymentAllocHealthRequest",
    "DeploymentPromoteRequest",
    "DeploymentStatusUpdateRequest",
    "Envelope",
    "EvalUpdateRequest",
    "JobDeregister",
    "JobRegister",
    "MessageType",
    "NodeDeregister",
    "NodeRegister",
    "NodeUpdateDrain",
    "NodeUpdateEligibility",
    "NodeUpdateStatus",
    "Payload",
    "PeriodicLaunchRequest",
    "SchedulerConfigSet",
    "SnapshotRestore",
    "decode_entry",
    "encode_entry",
]

ENTRY_VERSION = 1


class MessageType(IntEnum):
    """Append-only: add new types at the end, never reuse a number."""

    JOB_REGISTER = 1
    JOB_DEREGISTER = 2
    EVAL_UPDATE = 3
    ALLOC_CLIENT_UPDATE = 4
    NODE_REGISTER = 5
    NODE_UPDATE_STATUS = 6
    NODE_DEREGISTER = 7
    APPLY_PLAN_RESULTS = 8
    ALLOC_UPDATE_DESIRED_TRANSITION = 9
    BARRIER = 10
    SNAPSHOT_RESTORE = 11
    PERIODIC_LAUNCH = 12
    SCHEDULER_CONFIG = 13
    NODE_UPDATE_DRAIN = 14
    NODE_UPDATE_ELIGIBILITY = 15
    # deployments (16-19; 19 is reserved for them)
    DEPLOYMENT_STATUS_UPDATE = 16
    DEPLOYMENT_PROMOTE = 17
    DEPLOYMENT_ALLOC_HEALTH = 18


class JobRegister(Base):
    job: Job
    eval: Evaluation | None = None


class JobDeregister(Base):
    namespace: str
    job_id: str
    purge: bool = False
    submit_time: int = 0
    eval: Evaluation | None = None


class EvalUpdateRequest(Base):
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class AllocClientUpdate(Base):
    allocs: list[AllocUpdate] = msgspec.field(default_factory=list)
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class NodeRegister(Base):
    node: Node
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class NodeUpdateStatus(Base):
    node_id: str
    status: str
    updated_at: int = 0
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class NodeDeregister(Base):
    node_ids: list[str] = msgspec.field(default_factory=list, name="NodeIDs")
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class ApplyPlanResults(Base):
    """What the plan applier commits: placed/updated allocs, stops, preemptions, the eval."""

    eval_id: str = ""
    job: Job | None = None  # the plan's job, attached to placed allocs that carry none
    allocs_updated: list[Allocation] = msgspec.field(default_factory=list)
    allocs_stopped: list[Allocation] = msgspec.field(default_factory=list)
    allocs_preempted: list[Allocation] = msgspec.field(default_factory=list)
    evals: list[Evaluation] = msgspec.field(default_factory=list)
    # the plan's new or changed deployment and status changes of others (Nomad's
    # Deployment / DeploymentUpdates), written before the allocations that count into them
    deployment: Deployment | None = None
    deployment_updates: list[DeploymentStatusUpdate] = msgspec.field(default_factory=list)
    updated_at: int = 0


class AllocDesiredTransitionUpdate(Base):
    allocs: dict[str, DesiredTransition] = msgspec.field(default_factory=dict)
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class Barrier(Base):
    """Changes nothing: once it is applied, everything committed before it is too."""


class SnapshotRestore(Base):
    """Replace the whole state with ``data`` (an ``FSM.snapshot()``): operator snapshot restore."""

    data: bytes


class PeriodicLaunchRequest(Base):
    """The leader launched a periodic job: the child job, its eval and the launch time, in
    one entry, so a launch is either wholly recorded or not at all (no lost or double
    launches across a leader change). The FSM skips a child that already exists."""

    job: Job
    launch: PeriodicLaunch
    eval: Evaluation | None = None


class SchedulerConfigSet(Base):
    config: SchedulerConfiguration


class NodeUpdateDrain(Base):
    """Start/end a drain; ``drain_strategy`` None ends it (see StateStore.update_node_drain)."""

    node_id: str
    drain_strategy: DrainStrategy | None = None
    mark_eligible: bool = False
    updated_at: int = 0
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    event: NodeEvent | None = None
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class NodeUpdateEligibility(Base):
    node_id: str
    eligibility: str
    event: NodeEvent | None = None
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class DeploymentStatusUpdateRequest(Base):
    """Set a deployment's status (pause, resume, fail, run, unblock, the watcher's verdicts);
    a successful deployment marks its job version stable."""

    deployment_update: DeploymentStatusUpdate
    updated_at: int = 0
    eval: Evaluation | None = None


class DeploymentPromoteRequest(Base):
    """Promote the canaries of ``groups`` (``all``: every group)."""

    deployment_id: str
    all: bool = False
    groups: list[str] = msgspec.field(default_factory=list)
    updated_at: int = 0
    eval: Evaluation | None = None


class DeploymentAllocHealthRequest(Base):
    """Mark allocations of a deployment healthy or unhealthy (the server's verdict)."""

    deployment_id: str
    healthy_allocation_ids: list[str] = msgspec.field(default_factory=list)
    unhealthy_allocation_ids: list[str] = msgspec.field(default_factory=list)
    timestamp: int = 0
    deployment_update: DeploymentStatusUpdate | None = None
    eval: Evaluation | None = None


Payload = (
    JobRegister
    | JobDeregister
    | EvalUpdateRequest
    | AllocClientUpdate
    | NodeRegister
    | NodeUpdateStatus
    | NodeDeregister
    | ApplyPlanResults
    | AllocDesiredTransitionUpdate
    | Barrier
    | SnapshotRestore
    | PeriodicLaunchRequest
    | SchedulerConfigSet
    | NodeUpdateDrain
    | NodeUpdateEligibility
    | DeploymentStatusUpdateRequest
    | DeploymentPromoteRequest
    | DeploymentAllocHealthRequest
)

PAYLOAD_TYPES: dict[MessageType, type[Payload]] = {
    MessageType.JOB_REGISTER: JobRegister,
    MessageType.JOB_DEREGISTER: JobDeregister,
    MessageType.EVAL_UPDATE: EvalUpdateRequest,
    MessageType.ALLOC_CLIENT_UPDATE: AllocClientUpdate,
    MessageType.NODE_REGISTER: NodeRegister,
    MessageType.NODE_UPDATE_STATUS: NodeUpdateStatus,
    MessageType.NODE_DEREGISTER: NodeDeregister,
    MessageType.APPLY_PLAN_RESULTS: ApplyPlanResults,
    MessageType.ALLOC_UPDATE_DESIRED_TRANSITION: AllocDesiredTransitionUpdate,
    MessageType.BARRIER: Barrier,
    MessageType.SNAPSHOT_RESTORE: SnapshotRestore,
    MessageType.PERIODIC_LAUNCH: PeriodicLaunchRequest,
    MessageType.SCHEDULER_CONFIG: SchedulerConfigSet,
    MessageType.NODE_UPDATE_DRAIN: NodeUpdateDrain,
    MessageType.NODE_UPDATE_ELIGIBILITY: NodeUpdateEligibility,
    MessageType.DEPLOYMENT_STATUS_UPDATE: DeploymentStatusUpdateRequest,
    MessageType.DEPLOYMENT_PROMOTE: DeploymentPromoteRequest,
    MessageType.DEPLOYMENT_ALLOC_HEALTH: DeploymentAllocHealthRequest,
}
_TYPE_OF = {cls: mt for mt, cls in PAYLOAD_TYPES.items()}


class Envelope(msgspec.Struct, array_like=True):
    version: int
    type: int
    request_id: str
    payload: bytes
    # CRC-32 of ``payload``: pysyncobj's journal has no checksums, so a flipped bit on disk
    # is caught here instead of being applied (0: an entry written before the field existed)
    crc: int = 0


def encode_entry(payload: Payload, request_id: str) -> bytes:
    """The bytes to replicate for ``payload``; ``request_id`` makes retries idempotent."""
    body = to_msgpack(payload)
    envelope = Envelope(ENTRY_VERSION, _TYPE_OF[type(payload)], request_id, body, _crc(body))
    return to_msgpack(envelope)


def _crc(body: bytes) -> int:
    return zlib.crc32(body) or 1  # never 0, which means "no checksum"


def decode_entry(data: bytes) -> tuple[MessageType, str, Payload]:
    """(type, request ID, payload); raises ``DecodeError`` or ``ValueError`` on bad input."""
    envelope, mtype = decode_envelope(data)
    return mtype, envelope.request_id, decode_payload(envelope, mtype)


def decode_envelope(data: bytes) -> tuple[Envelope, MessageType]:
    """The entry's envelope (version, type, request ID), its payload still encoded."""
    envelope = from_msgpack(data, Envelope)
    if envelope.crc and envelope.crc != _crc(envelope.payload):
        raise ValueError("raft entry checksum mismatch: the entry is corrupt")
    if envelope.version > ENTRY_VERSION:
        raise ValueError(
            f"raft entry format {envelope.version} is newer than this server understands "
            f"({ENTRY_VERSION}); upgrade this server"
        )
    return envelope, MessageType(envelope.type)


def decode_payload(envelope: Envelope, mtype: MessageType) -> Payload:
    return from_msgpack(envelope.payload, PAYLOAD_TYPES[mtype])
