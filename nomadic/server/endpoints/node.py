"""Node endpoint: what clients call (Nomad's ``nomad/node_endpoint.go``).

Node.Register and Node.UpdateStatus (the heartbeat) keep the node's record and heartbeat
timer; a status change that can move work (initializing/down -> ready, -> down) creates
node-update evaluations for every job with allocations on the node and every system job.
Node.UpdateDrain and Node.UpdateEligibility change a node's drain strategy and scheduling
eligibility (the leader's drainer, ``server/drainer.py``, does the migrating); a node that
becomes eligible again gets node-update evaluations so system jobs are placed on it. A
client that registers again keeps what operators set (eligibility, drain).
Node.GetClientAllocs is a blocking query on the node's own allocations that returns when the
server changed one of them (its AllocModifyIndex), not on the client's own status reports.
Node.UpdateAlloc batches client reports for 50 ms
(``batchUpdateInterval``) into one Raft entry, and creates an evaluation for each job whose
allocation failed, so it can be rescheduled.
"""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from nomadic.errors import NoLeaderError, NotFoundError, ValidationError
from nomadic.state.entries import (
    AllocClientUpdate,
    NodeRegister,
    NodeUpdateDrain,
    NodeUpdateEligibility,
    NodeUpdateStatus,
)
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Allocation, AllocUpdate, DrainStrategy, Evaluation, Job, Node, NodeEvent
from nomadic.structs.consts import (
    ALLOC_CLIENT_FAILED,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
    NODE_ELIGIBLE,
    NODE_INELIGIBLE,
    NODE_STATUS_DISCONNECTED,
    NODE_STATUS_DOWN,
    NODE_STATUS_INIT,
    NODE_STATUS_READY,
    SECOND,
    TRIGGER_NODE_UPDATE,
    TRIGGER_RETRY_FAILED_ALLOC,
)
from nomadic.structs.funcs import compute_node_class
from nomadic.structs.globalobjs import NODE_POOL_ALL, NodePool, validate_node_pool
from nomadic.structs.requests import (
    NodeRegisterResponse,
    NodeUpdateDrainRequest,
    NodeUpdateResponse,
    NodeUpdateResponseEvals,
)

from .base import Host, new_eval, now_ns

__all__ = ["BATCH_UPDATE_INTERVAL", "NodeEndpoint", "node_evals"]

BATCH_UPDATE_INTERVAL = 0.05  # seconds; Nomad's batchUpdateInterval
NODE_STATUSES = (NODE_STATUS_INIT, NODE_STATUS_READY, NODE_STATUS_DOWN, NODE_STATUS_DISCONNECTED)

log = logging.getLogger("nomadic.server.node")


def transition_requires_eval(new: str, old: str) -> bool:
    """Nomad's nodeStatusTransitionRequiresEval."""
    return (
        (old == NODE_STATUS_INIT and new == NODE_STATUS_READY)
        or (old == NODE_STATUS_DOWN and new == NODE_STATUS_READY)
        or (old == NODE_STATUS_DISCONNECTED) != (new == NODE_STATUS_DISCONNECTED)
        or (new == NODE_STATUS_DOWN and old != NODE_STATUS_DOWN)
    )


def node_evals(snap: Snapshot, node_id: str, node_modify_index: int) -> list[Evaluation]:
    """One node-update eval per job with allocations on the node, and per system job."""
    jobs: dict[tuple[str, str], Job] = {}
    for alloc in snap.allocs_by_node(node_id):
        job = snap.job_by_id(alloc.namespace, alloc.job_id) or alloc.job
        if job is not None:
            jobs.setdefault((job.namespace, job.id), job)
    for job in snap.jobs():
        if job.type in (JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH) and not job.stop:
            jobs.setdefault((job.namespace, job.id), job)
    return [
        new_eval(job, TRIGGER_NODE_UPDATE, node_id=node_id, node_modify_index=node_modify_index)
        for _, job in sorted(jobs.items())
    ]


class NodeEndpoint:
    def __init__(
        self, host: Host, leader_rpc_addr: str = "", *, authoritative: bool = True
    ) -> None:
        self._host = host
        self._leader_rpc_addr = leader_rpc_addr
        # in the authoritative region a node's unknown pool is created; elsewhere the node
        # waits in "initializing" until the pool is replicated (Nomad's rule)
        self._authoritative = authoritative
        self._batch: list[AllocUpdate] = []
        self._batch_future: asyncio.Future[int] | None = None
        self._flush_task: asyncio.Task[None] | None = None

    async def register(self, node: Node) -> NodeRegisterResponse:
        _validate_node(node)
        if not node.status:
            node = msgspec.structs.replace(node, status=NODE_STATUS_INIT)
        snap = self._host.snapshot()
        old = snap.node_by_id(node.id)
        if old is not None and old.secret_id != node.secret_id:
            raise ValidationError(f"node {node.id}: secret ID does not match the registered node")
        node = msgspec.structs.replace(
            node,
            status_updated_at=now_ns() // SECOND,
            computed_class=node.computed_class or compute_node_class(node),
        )
        if old is not None:  # what operators set outlives a client restart
            node = msgspec.structs.replace(
                node,
                scheduling_eligibility=old.scheduling_eligibility,
                drain=old.drain,
                drain_strategy=old.drain_strategy,
                last_drain=old.last_drain,
                events=old.events,
            )
        if not self._pool_known(snap, node.node_pool):
            node = msgspec.structs.replace(node, status=NODE_STATUS_INIT)
        old_status = old.status if old is not None else NODE_STATUS_INIT
        evals: list[Evaluation] = []
        if transition_requires_eval(node.status, old_status):
            evals = node_evals(snap, node.id, old.modify_index if old else 0)
        entry = NodeRegister(node=node, evals=evals, create_node_pool=self._authoritative)
        index = await self._host.apply(entry)
        log.info("node registered", extra={"node_id": node.id, "node_name": node.name})
        ttl = self._heartbeat(node.id, node.status)
        return NodeRegisterResponse(
            heartbeat_ttl=int(ttl * SECOND),
            index=index,
            leader_rpc_addr=self._leader_rpc_addr,
            num_nodes=len(self._host.snapshot().tables.nodes),
        )

    async def update_status(self, node_id: str, status: str) -> NodeUpdateResponse:
        """The heartbeat; a changed status is written through Raft."""
        if status not in NODE_STATUSES:
            raise ValidationError(
                f"invalid node status {status!r}; use one of {', '.join(NODE_STATUSES)}"
            )
        snap = self._host.snapshot()
        node = snap.node_by_id(node_id)
        if node is None:
            raise NotFoundError(f"node {node_id} not found; register it first")
        index = node.modify_index
        if status == NODE_STATUS_READY and not self._pool_known(snap, node.node_pool):
            status = NODE_STATUS_INIT  # its pool has not been replicated here yet
        if node.status != status:
            evals: list[Evaluation] = []
            if transition_requires_eval(status, node.status):
                evals = node_evals(snap, node_id, node.modify_index)
            entry = NodeUpdateStatus(
                node_id=node_id, status=status, updated_at=now_ns() // SECOND, evals=evals
            )
            index = await self._host.apply(entry)
            log.info("node status changed", extra={"node_id": node_id, "status": status})
        ttl = self._heartbeat(node_id, status)
        return NodeUpdateResponse(heartbeat_ttl=int(ttl * SECOND), index=index)

    def _pool_known(self, snap: Snapshot, pool: str) -> bool:
        return self._authoritative or snap.node_pool_by_name(pool) is not None

    async def update_drain(self, req: NodeUpdateDrainRequest) -> NodeUpdateResponseEvals:
        """Start (DrainSpec set) or stop a drain (Nomad's Node.UpdateDrain)."""
        snap = self._host.snapshot()
        node = snap.node_by_id(req.node_id)
        if node is None:
            raise NotFoundError(f"node {req.node_id} not found")
        now = now_ns()
        strategy: DrainStrategy | None = None
        if req.drain_spec is not None:
            spec = req.drain_spec
            started = node.drain_strategy.started_at if node.drain_strategy else now
            force = 0
            if spec.deadline < 0:
                force = now  # -force: no waiting at all
            elif spec.deadline > 0:
                force = now + spec.deadline
            strategy = DrainStrategy(
                deadline=spec.deadline,
                ignore_system_jobs=spec.ignore_system_jobs,
                force_deadline=force,
                started_at=started,
            )
            message = "Node drain strategy set"
        else:
            message = "Node drain disabled" if node.drain_strategy else "Node drain not active"
        evals: list[Evaluation] = []
        if strategy is None and req.mark_eligible and node.scheduling_eligibility != NODE_ELIGIBLE:
            evals = node_evals(snap, node.id, node.modify_index)
        entry = NodeUpdateDrain(
            node_id=node.id,
            drain_strategy=strategy,
            mark_eligible=req.mark_eligible,
            updated_at=now,
            meta=dict(req.meta),
            event=_event(message, now),
            evals=evals,
        )
        index = await self._host.apply(entry)
        return _evals_response(index, evals)

    async def update_eligibility(self, node_id: str, eligibility: str) -> NodeUpdateResponseEvals:
        """Nomad's Node.UpdateEligibility: a draining node cannot be made eligible."""
        if eligibility not in (NODE_ELIGIBLE, NODE_INELIGIBLE):
            raise ValidationError(
                f"invalid scheduling eligibility {eligibility!r}; "
                f"use {NODE_ELIGIBLE!r} or {NODE_INELIGIBLE!r}"
            )
        snap = self._host.snapshot()
        node = snap.node_by_id(node_id)
        if node is None:
            raise NotFoundError(f"node {node_id} not found")
        if node.drain_strategy is not None and eligibility == NODE_ELIGIBLE:
            raise ValidationError(
                "can not set node's scheduling eligibility to eligible while it is draining; "
                "disable the drain first (nomadic node drain -disable)"
            )
        if node.scheduling_eligibility == eligibility:
            return NodeUpdateResponseEvals(node_modify_index=node.modify_index)
        evals: list[Evaluation] = []
        if eligibility == NODE_ELIGIBLE:
            evals = node_evals(snap, node.id, node.modify_index)
        now = now_ns()
        message = f"Node marked as {eligibility}"
        entry = NodeUpdateEligibility(
            node_id=node_id,
            eligibility=eligibility,
            event=_event(message, now, "Cluster"),
            evals=evals,
        )
        index = await self._host.apply(entry)
        return _evals_response(index, evals)

    def _heartbeat(self, node_id: str, status: str) -> float:
        if not self._host.is_leader():
            return 0.0
        if status == NODE_STATUS_DOWN:
            self._host.heartbeater.clear(node_id)
            return 0.0
        return self._host.heartbeater.reset(node_id)

    async def get_client_allocs(
        self, node_id: str, min_index: int, timeout: float
    ) -> tuple[list[Allocation], int]:
        """Blocks until an allocation on the node changed past ``min_index`` or ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            # Wait on the node's own event, not every write: thousands of watching clients
            # would otherwise all wake for each Raft entry.
            event = self._host.node_alloc_event(node_id)
            snap = self._host.snapshot()
            allocs = snap.allocs_by_node(node_id)
            # AllocModifyIndex: what the server changed; the client's own reports do not count
            index = max((a.alloc_modify_index for a in allocs), default=0)
            index = max(index, 1)
            remaining = deadline - time.monotonic()
            if index > min_index or remaining <= 0:
                return allocs, index
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass

    async def update_alloc(self, updates: list[AllocUpdate]) -> int:
        """Queue client status reports; all callers in a 50 ms window share one Raft write."""
        if not self._host.is_leader():
            raise NoLeaderError()
        if self._batch_future is None:
            loop = asyncio.get_running_loop()
            self._batch_future = loop.create_future()
            loop.call_later(BATCH_UPDATE_INTERVAL, self._start_flush)
        self._batch.extend(updates)
        return await asyncio.shield(self._batch_future)

    def _start_flush(self) -> None:
        self._flush_task = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        batch, self._batch = self._batch, []
        fut, self._batch_future = self._batch_future, None
        assert fut is not None
        now = now_ns()
        batch = [msgspec.structs.replace(u, modify_time=now) for u in batch]
        try:
            evals = _failed_alloc_evals(self._host.snapshot(), batch)
            index = await self._host.apply(AllocClientUpdate(allocs=batch, evals=evals))
        except Exception as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(index)


def _event(message: str, now: int, subsystem: str = "Drain") -> NodeEvent:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now // SECOND))
    return NodeEvent(message=message, subsystem=subsystem, timestamp=stamp)


def _evals_response(index: int, evals: list[Evaluation]) -> NodeUpdateResponseEvals:
    return NodeUpdateResponseEvals(
        node_modify_index=index,
        eval_ids=[e.id for e in evals],
        eval_create_index=index if evals else 0,
        index=index,
    )


def _failed_alloc_evals(snap: Snapshot, updates: list[AllocUpdate]) -> list[Evaluation]:
    jobs: dict[tuple[str, str], Job] = {}
    for up in updates:
        old = snap.alloc_by_id(up.id)
        if old is None or up.client_status != ALLOC_CLIENT_FAILED or old.client_terminal():
            continue
        job = snap.job_by_id(old.namespace, old.job_id)
        if job is not None and not job.stop:
            jobs.setdefault((job.namespace, job.id), job)
    return [new_eval(job, TRIGGER_RETRY_FAILED_ALLOC) for _, job in sorted(jobs.items())]


def _validate_node(node: Node) -> None:
    errors = []
    if not node.id:
        errors.append("node: missing node ID")
    if not node.secret_id:
        errors.append("node: missing secret ID")
    if not node.datacenter:
        errors.append("node: missing datacenter")
    if not node.name:
        errors.append("node: missing node name")
    if node.status and node.status not in NODE_STATUSES:
        errors.append(f"node: invalid status {node.status!r}")
    if node.node_pool == NODE_POOL_ALL:
        errors.append(
            f'node is not allowed to register in node pool "{NODE_POOL_ALL}": it holds every '
            "node; set client node_pool to another pool"
        )
    else:
        errors += [f"node: {p}" for p in validate_node_pool(NodePool(name=node.node_pool))]
    if errors:
        raise ValidationError(errors)
