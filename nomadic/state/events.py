"""Nomad's event stream events, built from what one Raft entry changed.

As in Nomad (``nomad/state/events.go``) the event *type* comes from the message type of the
entry (a job registration's evaluation is an ``Evaluation`` event of type ``JobRegistered``)
and the *topic* from the table that changed. Events are built from the state right after the
entry applied, so every server builds the same events with the same Raft index.

    {"Topic": "Job", "Type": "JobRegistered", "Key": "web", "Namespace": "default",
     "FilterKeys": null, "Index": 12, "Payload": {"Job": {...}}}

Allocations are published without their embedded job (Nomad drops it to keep events small;
``FilterKeys`` carries the job ID so ``topic=Allocation:<job>`` still matches), nodes without
their secret ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from nomadic.structs import Allocation, Deployment, Evaluation, Job, Node, NodePool, to_builtins

from . import entries as e
from .interfaces import StateSnapshot

__all__ = ["TOPICS", "EntryObjects", "Event", "capture", "events_for"]

TOPICS = ("Job", "Allocation", "Evaluation", "Deployment", "Node", "NodePool")

_TYPES = {
    e.MessageType.JOB_REGISTER: "JobRegistered",
    e.MessageType.JOB_DEREGISTER: "JobDeregistered",
    e.MessageType.EVAL_UPDATE: "EvaluationUpdated",
    e.MessageType.ALLOC_CLIENT_UPDATE: "AllocationUpdated",
    e.MessageType.NODE_REGISTER: "NodeRegistration",
    e.MessageType.NODE_UPDATE_STATUS: "NodeStreamEvent",
    e.MessageType.NODE_DEREGISTER: "NodeDeregistration",
    e.MessageType.APPLY_PLAN_RESULTS: "PlanResult",
    e.MessageType.ALLOC_UPDATE_DESIRED_TRANSITION: "AllocationUpdateDesiredStatus",
    e.MessageType.NODE_UPDATE_DRAIN: "NodeDrain",
    e.MessageType.NODE_UPDATE_ELIGIBILITY: "NodeEligibility",
    e.MessageType.DEPLOYMENT_STATUS_UPDATE: "DeploymentStatusUpdate",
    e.MessageType.DEPLOYMENT_PROMOTE: "DeploymentPromotion",
    e.MessageType.DEPLOYMENT_ALLOC_HEALTH: "DeploymentAllocHealth",
    e.MessageType.NODE_POOL_UPSERT: "NodePoolUpserted",
    e.MessageType.NODE_POOL_DELETE: "NodePoolDeleted",
}


@dataclass(frozen=True)
class Event:
    """One event; ``obj`` is the stored struct, encoded only when someone reads the event."""

    topic: str
    type: str
    key: str
    namespace: str
    index: int
    obj: Any
    filter_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "Topic": self.topic,
            "Type": self.type,
            "Key": self.key,
            "Namespace": self.namespace,
            "FilterKeys": list(self.filter_keys) or None,
            "Index": self.index,
            "Payload": {_PAYLOAD_KEYS[self.topic]: _encode(self.obj)},
        }

    def matches_key(self, key: str) -> bool:
        return key == "*" or key == self.key or key in self.filter_keys


_PAYLOAD_KEYS = {
    "Job": "Job",
    "Allocation": "Allocation",
    "Evaluation": "Evaluation",
    "Node": "Node",
    "Deployment": "Deployment",
    "NodePool": "NodePool",
}


def _encode(obj: Any) -> Any:
    if isinstance(obj, Allocation):
        obj = msgspec.structs.replace(obj, job=None)
    elif isinstance(obj, Node):
        obj = msgspec.structs.replace(obj, secret_id="")
    return to_builtins(obj)


class EntryObjects:
    """The stored objects one entry's events are about, looked up right after it applied.

    Holding these (references to immutable structs, no copies) is all the FSM pays per entry;
    :meth:`events` builds the :class:`Event` objects when someone reads them.
    """

    __slots__ = ("allocs", "deployments", "evals", "index", "jobs", "node_pools", "nodes", "type")

    def __init__(
        self,
        index: int,
        etype: str,
        jobs: list[Job],
        allocs: list[Allocation],
        evals: list[Evaluation],
        nodes: list[Node],
        deployments: list[Deployment],
        node_pools: list[NodePool],
    ) -> None:
        self.index = index
        self.type = etype
        self.jobs = jobs
        self.allocs = allocs
        self.evals = evals
        self.nodes = nodes
        self.deployments = deployments
        self.node_pools = node_pools

    def events(self) -> list[Event]:
        index, etype = self.index, self.type
        out: list[Event] = []
        for job in self.jobs:
            out.append(Event("Job", etype, job.id, job.namespace, index, job))
        for alloc in self.allocs:
            keys = tuple(k for k in (alloc.job_id, alloc.deployment_id) if k)
            out.append(Event("Allocation", etype, alloc.id, alloc.namespace, index, alloc, keys))
        for ev in self.evals:
            keys = tuple(k for k in (ev.job_id, ev.deployment_id) if k)
            out.append(Event("Evaluation", etype, ev.id, ev.namespace, index, ev, keys))
        for node in self.nodes:
            out.append(Event("Node", etype, node.id, "", index, node))
        for d in self.deployments:
            out.append(Event("Deployment", etype, d.id, d.namespace, index, d, (d.job_id,)))
        for pool in self.node_pools:
            out.append(Event("NodePool", etype, pool.name, "", index, pool))
        return out


def capture(
    index: int, mtype: e.MessageType, payload: object, before: StateSnapshot, after: StateSnapshot
) -> EntryObjects | None:
    """What one applied entry's events are about; None when it has none (barriers, snapshot
    restores, entries that changed nothing an event reports)."""
    etype = _TYPES.get(mtype)
    if etype is None:
        return None
    objs = EntryObjects(
        index,
        etype,
        list(_jobs(payload, before, after)),
        list(_allocs(payload, after)),
        list(_evals(payload, after)),
        list(_nodes(payload, before, after)),
        list(_deployments(payload, after)),
        list(_node_pools(payload, before, after)),
    )
    if objs.jobs or objs.allocs or objs.evals or objs.nodes or objs.deployments or objs.node_pools:
        return objs
    return None


def events_for(
    index: int, mtype: e.MessageType, payload: object, before: StateSnapshot, after: StateSnapshot
) -> list[Event]:
    """The events of one applied entry (none for barriers and snapshot restores)."""
    objs = capture(index, mtype, payload, before, after)
    return objs.events() if objs is not None else []


def _deployments(payload: object, after: StateSnapshot) -> Iterable[Deployment]:
    ids: list[str] = []
    if isinstance(payload, e.ApplyPlanResults):
        if payload.deployment is not None:
            ids.append(payload.deployment.id)
        ids += [u.deployment_id for u in payload.deployment_updates]
    elif isinstance(payload, e.DeploymentStatusUpdateRequest):
        ids = [payload.deployment_update.deployment_id]
    elif isinstance(payload, e.DeploymentPromoteRequest | e.DeploymentAllocHealthRequest):
        ids = [payload.deployment_id]
    return [d for i in dict.fromkeys(ids) if (d := after.deployment_by_id(i)) is not None]


def _jobs(payload: object, before: StateSnapshot, after: StateSnapshot) -> Iterable[Job]:
    if isinstance(payload, e.JobRegister):
        job = after.job_by_id(payload.job.namespace, payload.job.id)
        return [job] if job is not None else []
    if isinstance(payload, e.JobDeregister):
        job = after.job_by_id(payload.namespace, payload.job_id) or before.job_by_id(
            payload.namespace, payload.job_id
        )
        return [job] if job is not None else []
    return []


def _allocs(payload: object, after: StateSnapshot) -> Iterable[Allocation]:
    ids: list[str] = []
    if isinstance(payload, e.AllocClientUpdate):
        ids = [u.id for u in payload.allocs]
    elif isinstance(payload, e.ApplyPlanResults):
        ids = [
            a.id
            for group in (payload.allocs_stopped, payload.allocs_preempted, payload.allocs_updated)
            for a in group
        ]
    elif isinstance(payload, e.AllocDesiredTransitionUpdate):
        ids = sorted(payload.allocs)
    return [a for i in ids if (a := after.alloc_by_id(i)) is not None]


def _evals(payload: object, after: StateSnapshot) -> Iterable[Evaluation]:
    evals: list[Evaluation] = list(getattr(payload, "evals", None) or [])
    single = getattr(payload, "eval", None)
    if isinstance(single, Evaluation):
        evals.append(single)
    return [s for ev in evals if (s := after.eval_by_id(ev.id)) is not None]


def _nodes(payload: object, before: StateSnapshot, after: StateSnapshot) -> Iterable[Node]:
    if isinstance(payload, e.NodeRegister):
        ids = [payload.node.id]
    elif isinstance(payload, e.NodeUpdateStatus | e.NodeUpdateDrain | e.NodeUpdateEligibility):
        ids = [payload.node_id]
    elif isinstance(payload, e.NodeDeregister):
        return [n for i in payload.node_ids if (n := before.node_by_id(i)) is not None]
    else:
        return []
    return [n for i in ids if (n := after.node_by_id(i)) is not None]


def _node_pools(payload: object, before: StateSnapshot, after: StateSnapshot) -> Iterable[NodePool]:
    """Pools written (as stored) or deleted (as they were); skipped ones make no event."""
    if isinstance(payload, e.NodePoolUpsert):
        return [p for x in payload.pools if (p := after.node_pool_by_name(x.name)) is not None]
    if isinstance(payload, e.NodePoolDelete):
        return [
            p
            for name in payload.names
            if after.node_pool_by_name(name) is None
            and (p := before.node_pool_by_name(name)) is not None
        ]
    return []
