"""The finite state machine Raft drives: decode a log entry, apply it to the StateStore.

``FSM.apply`` is deterministic: the same entries in the same order give the same state on every
server. It reads no clock, draws no random number and makes no ID; the leader stamped all of
those into the payload. Recent request IDs are remembered (a bounded, ordered window that is
part of the snapshot) so a write the leader retries after a lost acknowledgement is applied
once. Snapshots are our own msgpack, never pickle.

Listeners let the server react to what was applied: upserted evaluations (the leader's broker
enqueues pending ones, blocked ones go to the blocked-evals tracker) and capacity changes
(a node became ready, an allocation became terminal) that may unblock evaluations. Apply
listeners see every applied entry with the state before and after it (the event stream builds
Nomad's events from them, so every server publishes the same events).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import immutables
import msgspec

from nomadic.structs import (
    Allocation,
    Deployment,
    Evaluation,
    Job,
    JobSummary,
    Namespace,
    Node,
    NodePool,
    PeriodicLaunch,
    SchedulerConfiguration,
    from_msgpack,
    to_msgpack,
)
from nomadic.structs.consts import NODE_ELIGIBLE, NODE_STATUS_READY
from nomadic.structs.funcs import NodeAllocsUsage
from nomadic.telemetry import default_sink

from . import entries as e
from .snapshot import SCHEDULER_CONFIG_KEY, Tables
from .store import StateStore

__all__ = ["FSM", "ApplyResult", "MessageType"]

MessageType = e.MessageType
log = logging.getLogger(__name__)

REQUEST_ID_WINDOW = 8192  # how many recent request IDs are remembered for dedupe
LOCAL_PAYLOADS = 1024  # payloads of this server's own writes awaiting their apply
SNAPSHOT_VERSION = 1

EvalListener = Callable[[list[Evaluation]], object]
# (index, computed classes of the nodes that gained capacity; "" when unknown)
CapacityListener = Callable[[int, frozenset[str]], object]
JobListener = Callable[[list[tuple[str, str]]], object]  # (namespace, job ID) upserted/deleted
# (index, message type, payload, state snapshot before, state snapshot after)
ApplyListener = Callable[[int, e.MessageType, object, Any, Any], object]

# Nomad's per-message-type FSM timer names (nomad.nomad.fsm.<name>)
_FSM_TIMERS = {
    e.MessageType.JOB_REGISTER: "nomad.nomad.fsm.register_job",
    e.MessageType.JOB_DEREGISTER: "nomad.nomad.fsm.deregister_job",
    e.MessageType.EVAL_UPDATE: "nomad.nomad.fsm.update_eval",
    e.MessageType.ALLOC_CLIENT_UPDATE: "nomad.nomad.fsm.alloc_client_update",
    e.MessageType.NODE_REGISTER: "nomad.nomad.fsm.register_node",
    e.MessageType.NODE_UPDATE_STATUS: "nomad.nomad.fsm.node_status_update",
    e.MessageType.NODE_DEREGISTER: "nomad.nomad.fsm.deregister_node",
    e.MessageType.APPLY_PLAN_RESULTS: "nomad.nomad.fsm.apply_plan_results",
    e.MessageType.ALLOC_UPDATE_DESIRED_TRANSITION: (
        "nomad.nomad.fsm.update_alloc_desired_transition"
    ),
    e.MessageType.NODE_UPDATE_DRAIN: "nomad.nomad.fsm.node_drain_update",
    e.MessageType.NODE_UPDATE_ELIGIBILITY: "nomad.nomad.fsm.node_eligibility_update",
    e.MessageType.SCHEDULER_CONFIG: "nomad.nomad.fsm.apply_scheduler_config",
    e.MessageType.PERIODIC_LAUNCH: "nomad.nomad.fsm.upsert_periodic_launch",
    e.MessageType.DEPLOYMENT_STATUS_UPDATE: "nomad.nomad.fsm.deployment_status_update",
    e.MessageType.DEPLOYMENT_PROMOTE: "nomad.nomad.fsm.deployment_promotion",
    e.MessageType.DEPLOYMENT_ALLOC_HEALTH: "nomad.nomad.fsm.deployment_alloc_health",
    e.MessageType.NAMESPACE_UPSERT: "nomad.nomad.fsm.apply_namespace_upsert",
    e.MessageType.NAMESPACE_DELETE: "nomad.nomad.fsm.apply_namespace_delete",
    e.MessageType.NODE_POOL_UPSERT: "nomad.nomad.fsm.apply_node_pool_upsert",
    e.MessageType.NODE_POOL_DELETE: "nomad.nomad.fsm.apply_node_pool_delete",
}


class ApplyResult(msgspec.Struct, frozen=True):
    index: int
    error: str = ""
    duplicate: bool = False


class FSMSnapshot(msgspec.Struct, array_like=True):
    version: int
    last_index: int
    request_ids: list[tuple[str, int]]
    table_index: dict[str, int]
    jobs: list[Job]
    job_versions: list[Job]
    job_summaries: list[JobSummary]
    evals: list[Evaluation]
    allocs: list[Allocation]
    nodes: list[Node]
    periodic_launches: list[PeriodicLaunch] = msgspec.field(default_factory=list)
    scheduler_config: SchedulerConfiguration | None = None
    deployments: list[Deployment] = msgspec.field(default_factory=list)
    # global objects (built-ins included; a snapshot without them gets them on restore)
    namespaces: list[Namespace] = msgspec.field(default_factory=list)
    node_pools: list[NodePool] = msgspec.field(default_factory=list)


class FSM:
    def __init__(self, store: StateStore | None = None) -> None:
        self.store = store or StateStore()
        self.last_index = 0
        self._request_ids: OrderedDict[str, int] = OrderedDict()
        self._eval_listeners: list[EvalListener] = []
        self._capacity_listeners: list[CapacityListener] = []
        self._job_listeners: list[JobListener] = []
        self._apply_listeners: list[ApplyListener] = []
        # request ID -> payload this server encoded and is committing: applied as it is
        # rather than decoded again (big plan results are the FSM's main decode cost)
        self._local: OrderedDict[str, e.Payload] = OrderedDict()
        self._local_lock = threading.Lock()

    def remember(self, request_id: str, payload: e.Payload) -> None:
        """``payload`` is about to be committed under ``request_id`` from this server: when
        its entry is applied here, skip decoding it. The payload must not change afterwards."""
        with self._local_lock:
            self._local[request_id] = payload
            while len(self._local) > LOCAL_PAYLOADS:
                self._local.popitem(last=False)

    def add_eval_listener(self, fn: EvalListener) -> None:
        self._eval_listeners.append(fn)

    def add_capacity_listener(self, fn: CapacityListener) -> None:
        self._capacity_listeners.append(fn)

    def add_job_listener(self, fn: JobListener) -> None:
        """``fn(keys)`` after jobs were registered, stopped or purged (periodic dispatcher)."""
        self._job_listeners.append(fn)

    def add_apply_listener(self, fn: ApplyListener) -> None:
        self._apply_listeners.append(fn)

    def apply(self, index: int, entry: bytes) -> ApplyResult:
        """Apply one committed entry at Raft ``index``. Never raises: errors are returned."""
        self.last_index = max(self.last_index, index)
        try:
            envelope, mtype = e.decode_envelope(entry)
            request_id = envelope.request_id
            with self._local_lock:
                payload = self._local.pop(request_id, None) if request_id else None
            if payload is None:
                payload = e.decode_payload(envelope, mtype)
        except (ValueError, msgspec.DecodeError) as exc:
            log.error("raft entry %d cannot be decoded, skipped: %s", index, exc)
            return ApplyResult(index, error=f"undecodable entry: {exc}")
        if request_id:
            seen = self._request_ids.get(request_id)
            if seen is not None:
                return ApplyResult(seen, duplicate=True)
            self._request_ids[request_id] = index
            while len(self._request_ids) > REQUEST_ID_WINDOW:
                self._request_ids.popitem(last=False)
        handler = _HANDLERS[mtype]
        start = time.monotonic()
        before = self.store.snapshot() if self._apply_listeners else None
        handler(self, index, payload)
        timer = _FSM_TIMERS.get(mtype)
        if timer is not None:
            default_sink.measure_since(timer, start)
        if self._apply_listeners:
            after = self.store.snapshot()
            for fn in list(self._apply_listeners):
                fn(index, mtype, payload, before, after)
        return ApplyResult(index)

    # -- handlers (one per message type) ------------------------------------------------

    def _job_register(self, index: int, p: e.JobRegister) -> None:
        self.store.ensure_namespace(index, p.job.namespace)  # no job in a missing namespace
        job = self.store.upsert_job(index, p.job)
        if p.eval is not None:
            ev = msgspec.structs.replace(p.eval, job_modify_index=job.job_modify_index)
            self._evals(index, [ev])
        self._jobs_changed([(job.namespace, job.id)])

    def _periodic_launch(self, index: int, p: e.PeriodicLaunchRequest) -> None:
        if self.store.snapshot().job_by_id(p.job.namespace, p.job.id) is not None:
            return  # this launch was already recorded (a retried or repeated launch)
        self.store.upsert_periodic_launch(index, p.launch)
        self._job_register(index, e.JobRegister(job=p.job, eval=p.eval))

    def _job_deregister(self, index: int, p: e.JobDeregister) -> None:
        if p.purge:
            self.store.delete_job(index, p.namespace, p.job_id)
        else:
            job = self.store.snapshot().job_by_id(p.namespace, p.job_id)
            if job is not None:
                stopped = msgspec.structs.replace(job, stop=True, submit_time=p.submit_time)
                self.store.upsert_job(index, stopped)
        self._evals(index, [p.eval] if p.eval else [])
        self._jobs_changed([(p.namespace, p.job_id)])

    def _eval_update(self, index: int, p: e.EvalUpdateRequest) -> None:
        self._evals(index, p.evals)

    def _alloc_client_update(self, index: int, p: e.AllocClientUpdate) -> None:
        before = self.store.snapshot()
        self.store.update_allocs_from_client(index, p.allocs)
        self._evals(index, p.evals)
        freed = [
            old.node_id
            for u in p.allocs
            if (old := before.alloc_by_id(u.id)) is not None
            and not old.client_terminal()
            and u.client_status in ("complete", "failed", "lost")
        ]
        if freed:
            self._capacity(index, freed)

    def _node_register(self, index: int, p: e.NodeRegister) -> None:
        if p.create_node_pool:
            self.store.ensure_node_pool(index, p.node.node_pool)
        self.store.upsert_node(index, p.node)
        self._evals(index, p.evals)
        if p.node.status == NODE_STATUS_READY:
            self._capacity(index, [p.node.id])

    def _node_update_status(self, index: int, p: e.NodeUpdateStatus) -> None:
        self.store.update_node_status(index, p.node_id, p.status, p.updated_at)
        self._evals(index, p.evals)
        if p.status == NODE_STATUS_READY:
            self._capacity(index, [p.node_id])

    def _node_deregister(self, index: int, p: e.NodeDeregister) -> None:
        self.store.delete_nodes(index, p.node_ids)
        self._evals(index, p.evals)

    def _apply_plan_results(self, index: int, p: e.ApplyPlanResults) -> None:
        updated = p.allocs_updated
        if p.job is not None:
            job = p.job
            updated = [a if a.job else msgspec.structs.replace(a, job=job) for a in updated]
        allocs = [*p.allocs_stopped, *p.allocs_preempted, *updated]
        if p.deployment is not None or p.deployment_updates:
            self.store.apply_plan_deployments(
                index, p.deployment, p.deployment_updates, p.updated_at
            )
        self.store.upsert_allocs(index, allocs)
        self._evals(index, p.evals)
        if p.allocs_stopped or p.allocs_preempted:
            self._capacity(index, [a.node_id for a in (*p.allocs_stopped, *p.allocs_preempted)])

    def _alloc_desired_transition(self, index: int, p: e.AllocDesiredTransitionUpdate) -> None:
        self.store.update_desired_transitions(index, p.allocs)
        self._evals(index, p.evals)

    def _scheduler_config(self, index: int, p: e.SchedulerConfigSet) -> None:
        self.store.set_scheduler_config(index, p.config)

    def _node_update_drain(self, index: int, p: e.NodeUpdateDrain) -> None:
        self.store.update_node_drain(
            index,
            p.node_id,
            p.drain_strategy,
            mark_eligible=p.mark_eligible,
            updated_at=p.updated_at,
            meta=p.meta,
            event=p.event,
        )
        self._evals(index, p.evals)
        if p.mark_eligible:
            self._capacity(index, [p.node_id])

    def _node_update_eligibility(self, index: int, p: e.NodeUpdateEligibility) -> None:
        self.store.update_node_eligibility(index, p.node_id, p.eligibility, p.event)
        self._evals(index, p.evals)
        if p.eligibility == NODE_ELIGIBLE:
            self._capacity(index, [p.node_id])

    # deployments

    def _deployment_status_update(self, index: int, p: e.DeploymentStatusUpdateRequest) -> None:
        self.store.update_deployment_status(index, p.deployment_update, p.updated_at)
        self._evals(index, [p.eval] if p.eval else [])

    def _deployment_promote(self, index: int, p: e.DeploymentPromoteRequest) -> None:
        groups = None if p.all else list(p.groups)
        self.store.update_deployment_promotion(index, p.deployment_id, groups, p.updated_at)
        self._evals(index, [p.eval] if p.eval else [])

    def _deployment_alloc_health(self, index: int, p: e.DeploymentAllocHealthRequest) -> None:
        self.store.update_deployment_alloc_health(
            index, p.healthy_allocation_ids, p.unhealthy_allocation_ids, p.timestamp
        )
        if p.deployment_update is not None:
            self.store.update_deployment_status(index, p.deployment_update, p.timestamp)
        self._evals(index, [p.eval] if p.eval else [])

    # global objects: deletes that the endpoints would refuse (built-ins, still in use) are
    # skipped here too, so a replicated delete never removes what a region still uses

    def _namespace_upsert(self, index: int, p: e.NamespaceUpsert) -> None:
        self.store.upsert_namespaces(index, p.namespaces)

    def _namespace_delete(self, index: int, p: e.NamespaceDelete) -> None:
        kept = self.store.delete_namespaces(index, p.names)
        if kept:
            log.warning("namespaces not deleted (built-in or with non-terminal jobs): %s", kept)

    def _node_pool_upsert(self, index: int, p: e.NodePoolUpsert) -> None:
        self.store.upsert_node_pools(index, p.pools)

    def _node_pool_delete(self, index: int, p: e.NodePoolDelete) -> None:
        kept = self.store.delete_node_pools(index, p.names)
        if kept:
            log.warning("node pools not deleted (built-in or used by nodes or jobs): %s", kept)

    def _barrier(self, index: int, p: e.Barrier) -> None:
        pass

    def _snapshot_restore(self, index: int, p: e.SnapshotRestore) -> None:
        # The leader decoded ``p.data`` before replicating it. Every table index moves to this
        # entry's index so indexes stay monotonic and blocking queries wake up.
        snap = from_msgpack(p.data, FSMSnapshot)
        tables = _tables_from(snap)
        names = set(tables.table_index.keys()) | set(self.store.snapshot().tables.table_index)
        self.store.restore(tables._replace(table_index=immutables.Map(dict.fromkeys(names, index))))

    def _evals(self, index: int, evals: list[Evaluation]) -> None:
        if not evals:
            return
        self.store.upsert_evals(index, evals)
        snap = self.store.snapshot()
        stored = [s for ev in evals if (s := snap.eval_by_id(ev.id)) is not None]
        for fn in list(self._eval_listeners):
            fn(stored)

    def _jobs_changed(self, keys: list[tuple[str, str]]) -> None:
        for fn in list(self._job_listeners):
            fn(keys)

    def _capacity(self, index: int, node_ids: list[str]) -> None:
        snap = self.store.snapshot()
        classes = frozenset(
            (node.computed_class if (node := snap.node_by_id(n)) is not None else "")
            for n in node_ids
        )
        for fn in list(self._capacity_listeners):
            fn(index, classes)

    # -- snapshots ----------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The whole state as msgpack (deterministic ordering, so equal states are equal bytes)."""
        t = self.store.snapshot().tables
        snap = FSMSnapshot(
            version=SNAPSHOT_VERSION,
            last_index=self.last_index,
            request_ids=list(self._request_ids.items()),
            table_index=dict(sorted(t.table_index.items())),
            jobs=[t.jobs[k] for k in sorted(t.jobs.keys())],
            job_versions=[j for k in sorted(t.job_versions.keys()) for j in t.job_versions[k]],
            job_summaries=[t.job_summary[k] for k in sorted(t.job_summary.keys())],
            evals=[t.evals[k] for k in sorted(t.evals.keys())],
            allocs=[t.allocs[k] for k in sorted(t.allocs.keys())],
            nodes=[t.nodes[k] for k in sorted(t.nodes.keys())],
            periodic_launches=[t.periodic_launch[k] for k in sorted(t.periodic_launch.keys())],
            scheduler_config=t.scheduler_config.get(SCHEDULER_CONFIG_KEY),
            deployments=[t.deployments[k] for k in sorted(t.deployments.keys())],
            namespaces=[t.namespaces[k] for k in sorted(t.namespaces.keys())],
            node_pools=[t.node_pools[k] for k in sorted(t.node_pools.keys())],
        )
        return to_msgpack(snap)

    @staticmethod
    def check_snapshot(data: bytes) -> None:
        """Raise ``ValueError`` unless ``data`` is a snapshot this server can restore."""
        try:
            snap = from_msgpack(data, FSMSnapshot)
        except Exception as exc:  # DecodeError of msgspec or ours: both mean unusable input
            raise ValueError(f"not a nomadic snapshot: {exc}") from None
        if snap.version > SNAPSHOT_VERSION:
            raise ValueError(f"snapshot format {snap.version} is newer than this server")

    def restore(self, data: bytes) -> None:
        """Replace the whole state with a snapshot made by :meth:`snapshot`."""
        snap = from_msgpack(data, FSMSnapshot)
        if snap.version > SNAPSHOT_VERSION:
            raise ValueError(f"snapshot format {snap.version} is newer than this server")
        self.last_index = snap.last_index
        self._request_ids = OrderedDict(snap.request_ids)
        self.store.restore(_tables_from(snap))


def _tables_from(snap: FSMSnapshot) -> Tables:
    versions: dict[tuple[str, str], list[Job]] = {}
    for job in snap.job_versions:
        versions.setdefault((job.namespace, job.id), []).append(job)
    by: dict[str, dict[object, dict[str, bool]]] = {
        "job": {},
        "node": {},
        "eval": {},
        "evals_by_job": {},
    }
    for a in snap.allocs:
        by["job"].setdefault((a.namespace, a.job_id), {})[a.id] = True
        by["node"].setdefault(a.node_id, {})[a.id] = True
        by["eval"].setdefault(a.eval_id, {})[a.id] = True
    usage: dict[str, NodeAllocsUsage] = {}
    for a in snap.allocs:
        if not a.terminal():
            usage[a.node_id] = (usage.get(a.node_id) or NodeAllocsUsage()).plus(a)
    deployments_by_job: dict[object, dict[str, bool]] = {}
    for d in snap.deployments:
        deployments_by_job.setdefault((d.namespace, d.job_id), {})[d.id] = True
    for ev in snap.evals:
        by["evals_by_job"].setdefault((ev.namespace, ev.job_id), {})[ev.id] = True

    def nested(d: dict[object, dict[str, bool]]) -> Any:
        return immutables.Map({k: immutables.Map(v) for k, v in d.items()})

    return Tables(
        jobs=immutables.Map({(j.namespace, j.id): j for j in snap.jobs}),
        job_versions=immutables.Map({k: tuple(v) for k, v in versions.items()}),
        job_summary=immutables.Map({(s.namespace, s.job_id): s for s in snap.job_summaries}),
        evals=immutables.Map({ev.id: ev for ev in snap.evals}),
        allocs=immutables.Map({a.id: a for a in snap.allocs}),
        nodes=immutables.Map({n.id: n for n in snap.nodes}),
        allocs_by_job=nested(by["job"]),
        allocs_by_node=nested(by["node"]),
        allocs_by_eval=nested(by["eval"]),
        evals_by_job=nested(by["evals_by_job"]),
        node_usage=immutables.Map(usage),
        table_index=immutables.Map(snap.table_index),
        periodic_launch=immutables.Map({(p.namespace, p.id): p for p in snap.periodic_launches}),
        scheduler_config=immutables.Map(
            {SCHEDULER_CONFIG_KEY: snap.scheduler_config} if snap.scheduler_config else {}
        ),
        deployments=immutables.Map({d.id: d for d in snap.deployments}),
        deployments_by_job=nested(deployments_by_job),
        namespaces=immutables.Map({ns.name: ns for ns in snap.namespaces}),
        node_pools=immutables.Map({p.name: p for p in snap.node_pools}),
    )


_HANDLERS: dict[e.MessageType, Callable[[FSM, int, object], None]] = {
    e.MessageType.JOB_REGISTER: FSM._job_register,  # type: ignore[dict-item]
    e.MessageType.JOB_DEREGISTER: FSM._job_deregister,  # type: ignore[dict-item]
    e.MessageType.EVAL_UPDATE: FSM._eval_update,  # type: ignore[dict-item]
    e.MessageType.ALLOC_CLIENT_UPDATE: FSM._alloc_client_update,  # type: ignore[dict-item]
    e.MessageType.NODE_REGISTER: FSM._node_register,  # type: ignore[dict-item]
    e.MessageType.NODE_UPDATE_STATUS: FSM._node_update_status,  # type: ignore[dict-item]
    e.MessageType.NODE_DEREGISTER: FSM._node_deregister,  # type: ignore[dict-item]
    e.MessageType.APPLY_PLAN_RESULTS: FSM._apply_plan_results,  # type: ignore[dict-item]
    e.MessageType.ALLOC_UPDATE_DESIRED_TRANSITION: FSM._alloc_desired_transition,  # type: ignore[dict-item]
    e.MessageType.BARRIER: FSM._barrier,  # type: ignore[dict-item]
    e.MessageType.SNAPSHOT_RESTORE: FSM._snapshot_restore,  # type: ignore[dict-item]
    e.MessageType.PERIODIC_LAUNCH: FSM._periodic_launch,  # type: ignore[dict-item]
    e.MessageType.SCHEDULER_CONFIG: FSM._scheduler_config,  # type: ignore[dict-item]
    e.MessageType.NODE_UPDATE_DRAIN: FSM._node_update_drain,  # type: ignore[dict-item]
    e.MessageType.NODE_UPDATE_ELIGIBILITY: FSM._node_update_eligibility,  # type: ignore[dict-item]
    e.MessageType.DEPLOYMENT_STATUS_UPDATE: FSM._deployment_status_update,  # type: ignore[dict-item]
    e.MessageType.DEPLOYMENT_PROMOTE: FSM._deployment_promote,  # type: ignore[dict-item]
    e.MessageType.DEPLOYMENT_ALLOC_HEALTH: FSM._deployment_alloc_health,  # type: ignore[dict-item]
    e.MessageType.NAMESPACE_UPSERT: FSM._namespace_upsert,  # type: ignore[dict-item]
    e.MessageType.NAMESPACE_DELETE: FSM._namespace_delete,  # type: ignore[dict-item]
    e.MessageType.NODE_POOL_UPSERT: FSM._node_pool_upsert,  # type: ignore[dict-item]
    e.MessageType.NODE_POOL_DELETE: FSM._node_pool_delete,  # type: ignore[dict-item]
}
