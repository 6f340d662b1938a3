"""The server role: composes state, FSM, Raft, endpoints, broker, plan applier and workers.

    HTTP / LocalServerRPC --> endpoints --apply--> RaftNode --> FSM --> StateStore
                                                                  |  (listeners, via the loop)
                        leader: EvalBroker <--evals--+            v
    Worker x N --dequeue--> scheduler (thread) --plan--> PlanQueue --> PlanApplier --apply-->

Writes are accepted on the leader; on a follower the ServerAPI writes go to the leader
through ``forwarder`` (set by ``nomadic.rpc.RPCServer.attach``), else raise ``NoLeaderError``.
Every write is one Raft entry with a fresh request ID; a Raft timeout is retried
with the same entry, which the FSM applies at most once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from nomadic.errors import NoLeaderError, RaftError, ValidationError
from nomadic.raft import RaftConfig, RaftNode
from nomadic.state.entries import (
    Barrier,
    Payload,
    SchedulerConfigSet,
    SnapshotRestore,
    encode_entry,
)
from nomadic.state.fsm import FSM
from nomadic.state.snapshot import Snapshot
from nomadic.state.store import StateStore
from nomadic.structs import Evaluation, Job, SchedulerConfiguration
from nomadic.structs.consts import (
    DEFAULT_DATACENTER,
    DEFAULT_REGION,
    JOB_TYPE_BATCH,
    JOB_TYPE_SERVICE,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
    NODE_STATUS_DOWN,
)
from nomadic.structs.ids import new_id
from nomadic.structs.requests import (
    AllocStopResponse,
    JobDeregisterResponse,
    JobDispatchRequest,
    JobDispatchResponse,
    JobPlanResponse,
    JobRegisterRequest,
    JobRegisterResponse,
    JobRevertRequest,
    JobScaleRequest,
    JobScaleStatusResponse,
    NodeUpdateDrainRequest,
    NodeUpdateEligibilityRequest,
    NodeUpdateResponseEvals,
    PeriodicForceRequest,
    PeriodicForceResponse,
    SchedulerSetConfigResponse,
    ServerMember,
)

from .blocked_evals import BlockedEvals
from .broker import BrokerConfig, EvalBroker
from .deployment_api import DeploymentAPI
from .deployment_watcher import DeploymentWatcher
from .endpoints import AllocEndpoint, JobEndpoint, NodeEndpoint
from .endpoints.deployment import DeploymentEndpoint
from .endpoints.eval import EvalEndpoint
from .event_broker import EventBroker
from .federation import FederationAPI
from .heartbeat import HeartbeatConfig, Heartbeater
from .leader import LeaderDuties
from .multiregion_rollout import MultiregionRollout
from .periodic import PeriodicDispatch
from .plan_apply import PlanApplier
from .plan_queue import PlanQueue
from .worker import SchedulerFactory, SchedulingLeader, Worker, default_scheduler_factory

if TYPE_CHECKING:
    from nomadic.rpc.gossip import Gossip

    from .federation import CrossRegion
    from .local_rpc import LocalServerRPC

__all__ = ["Server", "ServerConfig"]

log = logging.getLogger(__name__)

RAFT_WRITE_ATTEMPTS = 3
T = TypeVar("T")
# (method, request, reply type) -> reply, answered by the leader
Forwarder = Callable[[str, Any, type[Any]], Awaitable[Any]]
# the leader's Eval/Plan endpoints over gRPC for this follower's workers, None if unknown
RemoteLeader = Callable[[], SchedulingLeader | None]
_ALL_SCHEDULERS = (JOB_TYPE_SERVICE, JOB_TYPE_BATCH, JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH)


class ServerConfig(msgspec.Struct, kw_only=True):
    region: str = DEFAULT_REGION
    datacenter: str = DEFAULT_DATACENTER
    node_name: str = msgspec.field(default_factory=socket.gethostname)
    data_dir: str | None = None  # None: Raft log and state in memory (dev)
    bind_addr: str = "127.0.0.1"  # raft listens here
    raft_port: int = 4649
    rpc_port: int = 4647
    advertise_addr: str = ""  # address peers and clients use; "" means bind_addr
    peers: list[str] = msgspec.field(default_factory=list)  # other servers' raft "host:port"
    num_schedulers: int | None = None  # None: one per CPU core; 0: this server never schedules
    enabled_schedulers: list[str] = msgspec.field(
        default_factory=lambda: [
            JOB_TYPE_SERVICE,
            JOB_TYPE_BATCH,
            JOB_TYPE_SYSTEM,
            JOB_TYPE_SYSBATCH,
        ]
    )
    encrypt: str | None = None  # Raft transport password
    heartbeat: HeartbeatConfig = msgspec.field(default_factory=HeartbeatConfig)
    broker: BrokerConfig = msgspec.field(default_factory=BrokerConfig)
    raft_apply_timeout: float = 10.0
    raft_multiplier: int = 1  # Nomad's: election timeout 1-2 s x this (a cluster only)
    multiregion_rollout_interval: float = 1.0  # seconds between coordinator rounds

    @property
    def raft_addr(self) -> str:
        return f"{self.bind_addr}:{self.raft_port}"

    @property
    def rpc_advertise(self) -> str:
        """What ``leader_addr()`` reports for this server ("host:port")."""
        host = self.advertise_addr or self.bind_addr
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"{host}:{self.rpc_port}"


class Server(DeploymentAPI, FederationAPI):
    """Implements ``nomadic.http.agent.ServerAPI``."""

    def __init__(
        self, config: ServerConfig, *, scheduler_factory: SchedulerFactory | None = None
    ) -> None:
        self.config = config
        self.region = config.region
        self.datacenter = config.datacenter
        self.store = StateStore()
        self.fsm = FSM(self.store)
        self.events = EventBroker()
        self.fsm.add_apply_listener(self.events.on_apply)
        raft_cfg = RaftConfig(
            self_addr=config.raft_addr,
            partners=list(config.peers),
            data_dir=config.data_dir,
            password=config.encrypt,
            raft_multiplier=config.raft_multiplier,
        )
        self.raft = RaftNode(raft_cfg, self.fsm)
        self.broker = EvalBroker(config.broker)
        self.blocked = BlockedEvals(self.broker)
        self.plan_queue = PlanQueue()
        self.heartbeater = Heartbeater(config.heartbeat, self._node_expired)
        self.jobs = JobEndpoint(self)
        self.nodes = NodeEndpoint(self, leader_rpc_addr=config.rpc_advertise)
        self.allocs = AllocEndpoint(self)
        self.evals = EvalEndpoint(self)
        self.deployments = DeploymentEndpoint(self, self.jobs.revert)
        self.periodic = PeriodicDispatch(self)
        self._leader = LeaderDuties(
            self,
            PlanApplier(self.plan_queue, self.store, self._commit),
            DeploymentWatcher(self, self.jobs.revert),
        )
        self._factory = scheduler_factory or default_scheduler_factory
        self.forwarder: Forwarder | None = None
        self.remote_leader: RemoteLeader | None = None
        self.workers: list[Worker] = []
        self.rpc_by_raft: dict[str, str] = {}  # Raft address -> RPC address, from joins
        self.name_by_raft: dict[str, str] = {}  # Raft address -> member name, from joins
        # WAN membership and cross-region calls (set by RPCServer.attach; None: one region)
        self.gossip: Gossip | None = None
        self.cross_region: CrossRegion | None = None
        self.multiregion_rollout = MultiregionRollout(self, config.multiregion_rollout_interval)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._index_event = asyncio.Event()
        self._node_alloc_events: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self.events.start(loop)
        self.store.add_listener(lambda _i, _t: loop.call_soon_threadsafe(self._index_bump))
        self.store.add_alloc_node_listener(
            lambda _i, nodes: loop.call_soon_threadsafe(self._node_allocs_bump, nodes)
        )
        self.fsm.add_eval_listener(
            lambda evals: loop.call_soon_threadsafe(self._leader.on_evals, evals)
        )
        self.fsm.add_job_listener(
            lambda keys: loop.call_soon_threadsafe(self._leader.on_jobs, keys)
        )
        self.fsm.add_capacity_listener(
            lambda index, classes: loop.call_soon_threadsafe(
                self._leader.on_capacity, index, classes
            )
        )
        self.raft.add_leadership_listener(self._on_leadership)
        await self.raft.start()
        count = self.config.num_schedulers
        if count is None:
            count = os.cpu_count() or 1
        schedulers = list(self.config.enabled_schedulers)
        self.workers = [Worker(self, self._factory, schedulers, i) for i in range(count)]
        self._tasks = [asyncio.ensure_future(w.run()) for w in self.workers]
        # acts while this server leads the first region of a multiregion job
        self._tasks.append(asyncio.ensure_future(self.multiregion_rollout.run()))
        log.info("started %d scheduler workers (%s)", count, ", ".join(schedulers))

    async def shutdown(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._leader.revoke()
        await self.raft.shutdown()

    async def wait_for_leader(self, timeout: float = 10.0) -> None:
        """Until this server leads (tests and the dev agent); raises NoLeaderError."""
        deadline = time.monotonic() + timeout
        while not self._leader.active:
            if time.monotonic() > deadline:
                raise NoLeaderError("no cluster leader elected in time")
            await asyncio.sleep(0.01)

    def _on_leadership(self, is_leader: bool) -> None:
        coro = self._establish() if is_leader else self._leader.revoke()
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _establish(self) -> None:
        # A new leader may not have applied everything committed before its term: a barrier
        # entry makes the broker refill and heartbeat timers start from complete state.
        try:
            await self.apply(Barrier())
        except (NoLeaderError, RaftError) as exc:
            log.warning("leadership barrier failed, not leading: %s", exc)
            return
        if self.raft.is_leader() and not self._leader.active:
            self._leader.establish()

    def local_rpc(self) -> LocalServerRPC:
        """The client's ServerRPC served in-process (``-dev`` agents)."""
        from .local_rpc import LocalServerRPC

        return LocalServerRPC(self)

    # -- shared plumbing for endpoints, workers and leader duties -----------------------

    def is_leader(self) -> bool:
        return self._leader.active

    def snapshot(self) -> Snapshot:
        return self.store.snapshot()

    async def apply(self, payload: Payload) -> int:
        """Commit ``payload`` through Raft; returns the index it was applied at."""
        request_id = new_id()
        entry = encode_entry(payload, request_id)
        self.fsm.remember(request_id, payload)
        for attempt in range(1, RAFT_WRITE_ATTEMPTS + 1):
            try:
                result = await self.raft.apply(entry, timeout=self.config.raft_apply_timeout)
            except RaftError:
                if attempt == RAFT_WRITE_ATTEMPTS:
                    raise
                log.warning("raft write not confirmed (attempt %d); retrying", attempt)
                continue
            except NoLeaderError:
                if attempt == 1:
                    raise
                # an earlier attempt is in some log and may still commit: "no leader" would
                # wrongly tell the caller that nothing was written
                raise RaftError(
                    "raft commit not confirmed and leadership lost; the write may or may not "
                    "have been applied (retrying it is safe)"
                ) from None
            if result.error:
                raise RaftError(f"raft entry rejected by the state machine: {result.error}")
            return result.index
        raise AssertionError("unreachable")

    async def _commit(self, payload: Payload) -> int:
        return await self.apply(payload)

    @property
    def name(self) -> str:
        return f"{self.config.node_name}.{self.region}"

    def scheduling_leader(self) -> SchedulingLeader | None:
        """Where this server's workers get evals: in-process on the leader, else over gRPC."""
        if self.is_leader():
            return self.evals
        if self.raft.is_leader() or self.remote_leader is None:
            return None  # leadership being established, or no transport to the leader
        return self.remote_leader()

    async def wait_for_index(self, min_index: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            event = self._index_event
            index = self.store.latest_index()
            remaining = deadline - time.monotonic()
            if index > min_index or remaining <= 0:
                return index
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                return self.store.latest_index()

    def node_alloc_event(self, node_id: str) -> asyncio.Event:
        """An event set the next time an allocation on ``node_id`` changes (take it before
        reading the state, so no change slips between the read and the wait)."""
        event = self._node_alloc_events.get(node_id)
        if event is None:
            event = self._node_alloc_events[node_id] = asyncio.Event()
        return event

    def _node_allocs_bump(self, nodes: frozenset[str] | None) -> None:
        events = self._node_alloc_events
        if nodes is None:
            self._node_alloc_events = {}
            woken = list(events.values())
        else:
            woken = [ev for n in nodes if (ev := events.pop(n, None)) is not None]
        for ev in woken:
            ev.set()

    def _index_bump(self) -> None:
        event, self._index_event = self._index_event, asyncio.Event()
        event.set()

    async def _node_expired(self, node_id: str) -> None:
        node = self.snapshot().node_by_id(node_id)
        if node is not None and node.status != NODE_STATUS_DOWN:
            await self.nodes.update_status(node_id, NODE_STATUS_DOWN)

    # -- ServerAPI ----------------------------------------------------------------------

    async def job_register(
        self, job: Job, *, enforce_index: bool = False, job_modify_index: int = 0
    ) -> JobRegisterResponse:
        if job.multiregion is not None and job.multiregion.regions:
            from .multiregion import register_multiregion

            return await register_multiregion(self, job)
        return await self.job_register_local(
            job, enforce_index=enforce_index, job_modify_index=job_modify_index
        )

    async def job_register_local(
        self, job: Job, *, enforce_index: bool = False, job_modify_index: int = 0
    ) -> JobRegisterResponse:
        """Job.Register in this region only (a multiregion job's regional copy lands here)."""
        if not self.is_leader() and self.forwarder is not None:
            req = JobRegisterRequest(
                job=job, enforce_index=enforce_index, job_modify_index=job_modify_index
            )
            resp: JobRegisterResponse = await self.forwarder(
                "Job.Register", req, JobRegisterResponse
            )
            return resp
        self.require_leader()
        return await self.jobs.register(
            job, enforce_index=enforce_index, job_modify_index=job_modify_index
        )

    async def job_plan(self, job: Job, *, diff: bool = False) -> JobPlanResponse:
        """Job.Plan: a scheduler dry run on this server's state; nothing is written."""
        from .endpoints.job_plan import plan_job

        return await plan_job(self.snapshot(), job, diff=diff)

    async def job_deregister(
        self, namespace: str, job_id: str, *, purge: bool = False, global_: bool = False
    ) -> JobDeregisterResponse:
        if global_:
            from .multiregion import deregister_global

            return await deregister_global(self, namespace, job_id, purge=purge)
        if not self.is_leader() and self.forwarder is not None:
            from nomadic.rpc.wire import JobDeregisterRequest

            dreq = JobDeregisterRequest(namespace=namespace, job_id=job_id, purge=purge)
            dresp: JobDeregisterResponse = await self.forwarder(
                "Job.Deregister", dreq, JobDeregisterResponse
            )
            return dresp
        self.require_leader()
        return await self.jobs.deregister(namespace, job_id, purge=purge)

    async def alloc_stop(self, alloc_id: str) -> AllocStopResponse:
        if not self.is_leader() and self.forwarder is not None:
            from nomadic.rpc.wire import AllocStopRequest

            sresp: AllocStopResponse = await self.forwarder(
                "Alloc.Stop", AllocStopRequest(alloc_id=alloc_id), AllocStopResponse
            )
            return sresp
        self.require_leader()
        return await self.allocs.stop(alloc_id)

    async def _on_leader(
        self, method: str, req: Any, reply: type[T], local: Callable[[], Awaitable[T]]
    ) -> T:
        """Run ``local`` here when leading, else forward ``method`` to the leader."""
        if not self.is_leader() and self.forwarder is not None:
            forwarded: T = await self.forwarder(method, req, reply)
            return forwarded
        self.require_leader()
        return await local()

    async def job_dispatch(self, req: JobDispatchRequest) -> JobDispatchResponse:
        return await self._on_leader(
            "Job.Dispatch", req, JobDispatchResponse, lambda: self.jobs.dispatch(req)
        )

    async def job_periodic_force(self, namespace: str, job_id: str) -> PeriodicForceResponse:
        async def force() -> PeriodicForceResponse:
            ev = await self.periodic.force(namespace, job_id)
            stored = self.snapshot().eval_by_id(ev.id)
            index = stored.create_index if stored else self.store.latest_index()
            return PeriodicForceResponse(eval_id=ev.id, eval_create_index=index, index=index)

        req = PeriodicForceRequest(job_id=job_id, namespace=namespace)
        return await self._on_leader("Job.PeriodicForce", req, PeriodicForceResponse, force)

    async def job_revert(self, req: JobRevertRequest) -> JobRegisterResponse:
        return await self._on_leader(
            "Job.Revert", req, JobRegisterResponse, lambda: self.jobs.revert(req)
        )

    async def job_scale(self, req: JobScaleRequest) -> JobRegisterResponse:
        return await self._on_leader(
            "Job.Scale", req, JobRegisterResponse, lambda: self.jobs.scale(req)
        )

    def job_scale_status(self, namespace: str, job_id: str) -> JobScaleStatusResponse:
        return self.jobs.scale_status(namespace, job_id)

    async def node_update_drain(self, req: NodeUpdateDrainRequest) -> NodeUpdateResponseEvals:
        """Node.UpdateDrain: start or stop draining a node."""
        if not self.is_leader() and self.forwarder is not None:
            fwd: NodeUpdateResponseEvals = await self.forwarder(
                "Node.UpdateDrain", req, NodeUpdateResponseEvals
            )
            return fwd
        self.require_leader()
        return await self.nodes.update_drain(req)

    async def node_update_eligibility(
        self, req: NodeUpdateEligibilityRequest
    ) -> NodeUpdateResponseEvals:
        """Node.UpdateEligibility: mark a node eligible or ineligible for new allocations."""
        if not self.is_leader() and self.forwarder is not None:
            fwd: NodeUpdateResponseEvals = await self.forwarder(
                "Node.UpdateEligibility", req, NodeUpdateResponseEvals
            )
            return fwd
        self.require_leader()
        return await self.nodes.update_eligibility(req.node_id, req.eligibility)

    async def scheduler_set_config(
        self, config: SchedulerConfiguration
    ) -> SchedulerSetConfigResponse:
        """Operator.SchedulerSetConfiguration: replace the scheduler configuration."""
        if not self.is_leader() and self.forwarder is not None:
            fwd: SchedulerSetConfigResponse = await self.forwarder(
                "Operator.SchedulerSetConfiguration", config, SchedulerSetConfigResponse
            )
            return fwd
        self.require_leader()
        if config.scheduler_algorithm not in ("binpack", "spread"):
            raise ValidationError(
                f"invalid scheduler algorithm {config.scheduler_algorithm!r}; "
                "use 'binpack' or 'spread'"
            )
        index = await self.apply(SchedulerConfigSet(config=config))
        return SchedulerSetConfigResponse(updated=True, index=index)

    async def snapshot_save(self) -> bytes:
        """Operator.SnapshotSave: the leader's whole state, after everything committed so far."""
        if not self.is_leader() and self.forwarder is not None:
            data: bytes = await self.forwarder("Operator.SnapshotSave", {}, bytes)
            return data
        self.require_leader()
        await self.apply(Barrier())
        return self.fsm.snapshot()

    async def snapshot_restore(self, data: bytes) -> int:
        """Operator.SnapshotRestore: replace the cluster's state with ``data``."""
        if not self.is_leader() and self.forwarder is not None:
            from nomadic.rpc.wire import IndexReply, SnapshotRestoreRequest

            reply: IndexReply = await self.forwarder(
                "Operator.SnapshotRestore", SnapshotRestoreRequest(data=data), IndexReply
            )
            return reply.index
        self.require_leader()
        try:
            FSM.check_snapshot(data)
        except ValueError as exc:
            raise ValidationError(f"snapshot restore: {exc}") from None
        index = await self.apply(SnapshotRestore(data=data))
        # leader duties rebuild from the new state: broker refill, heartbeat timers
        await self._leader.revoke()
        if self.raft.is_leader():
            self._leader.establish()
        return index

    async def raft_remove_peer(self, address: str) -> str:
        """Operator.RaftRemovePeer: drop a (dead) server from the Raft configuration.

        ``address`` is its Raft address (list-peers' ID and Address) or its RPC address;
        returns the Raft address removed.
        """
        if not self.is_leader() and self.forwarder is not None:
            from nomadic.rpc.wire import RemovePeerRequest

            removed: str = await self.forwarder(
                "Operator.RaftRemovePeer", RemovePeerRequest(address=address), str
            )
            return removed
        self.require_leader()
        by_rpc = {rpc: raft for raft, rpc in self.rpc_by_raft.items()}
        raft_addr = address if address in self.raft.peers() else by_rpc.get(address, address)
        await self.raft.remove_peer(raft_addr)
        log.info("removed raft peer %s (%s)", raft_addr, address)
        name = self.name_by_raft.get(raft_addr)
        if self.gossip is not None and name:
            self.gossip.force_leave(name)  # as Serf's force-leave: members shows it left
        return raft_addr

    def leader_addr(self) -> str:
        if self.is_leader():
            return self.config.rpc_advertise
        leader = self.raft.leader()
        return self.rpc_by_raft.get(leader, leader)

    def raft_stats(self) -> dict[str, str]:
        return self.raft.stats()

    def peers(self) -> list[str]:
        """RPC addresses of the Raft peers (Raft addresses of peers not yet learnt)."""
        own = {self.config.raft_addr: self.config.rpc_advertise}
        return sorted({**self.rpc_by_raft, **own}.get(p, p) for p in self.raft.peers())

    def raft_members(self) -> list[ServerMember]:
        """Every server of the Raft configuration: alive if connected, and who leads."""
        leader = self.config.raft_addr if self.is_leader() else self.raft.leader()
        found = []
        for raft_addr in self.raft.peers():
            rpc = self.rpc_by_raft.get(raft_addr, "")
            if raft_addr == self.config.raft_addr:
                rpc = self.config.rpc_advertise
            host, _, port = (rpc or raft_addr).rpartition(":")
            tags = {
                "role": "nomad",
                "region": self.region,
                "dc": self.datacenter,
                "port": port,
                "raft_vsn": "3",
                "leader": "true" if raft_addr == leader else "false",
                "raft_addr": raft_addr,
            }
            default = f"{self.config.node_name}.{self.region}"
            name = self.name_by_raft.get(raft_addr) or (
                default if raft_addr == self.config.raft_addr else raft_addr
            )
            status = "alive" if self.raft.connected(raft_addr) else "failed"
            found.append(
                ServerMember(name=name, addr=host, port=int(port or 0), status=status, tags=tags)
            )
        return found

    def broker_stats(self) -> dict[str, int]:
        return {**self.broker.stats(), **self.blocked.stats()}

    def require_leader(self) -> None:
        if not self.is_leader():
            raise NoLeaderError()

    def outstanding_evals(self) -> list[Evaluation]:
        """Non-terminal evaluations in state (for status pages and tests)."""
        return [e for e in self.snapshot().evals() if not e.terminal()]
