"""RPCServer: this server's endpoints over gRPC, with follower-to-leader forwarding.

    client / follower --/Node/Register--> RPCServer --leader?--> endpoint --> Raft
                                              | no: forward the same bytes to the leader's RPC
                                              v     address (Raft address -> RPC address map)

Writes are served by the leader; a follower forwards them once (a forwarded request carries
``nomadic-forwarded`` and is never forwarded again, so a stale leader view cannot loop).
Reads (``Node.GetClientAllocs``, ``Status.*``) are answered from local state, which is how
Nomad serves ``?stale`` reads and keeps blocking queries off the leader.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import grpc  # type: ignore[import-untyped]
import msgspec

from nomadic.errors import NoLeaderError, NomadicError, RegionUnavailableError
from nomadic.structs import Node, Plan, PlanResult, SchedulerConfiguration
from nomadic.structs.codec import to_msgpack
from nomadic.structs.deployment import (
    DeploymentAllocHealthRequest,
    DeploymentPauseRequest,
    DeploymentPromoteRequest,
    DeploymentReply,
    DeploymentRequest,
    DeploymentSpecificRequest,
)
from nomadic.structs.requests import (
    JobDispatchRequest,
    JobRegisterRequest,
    JobRevertRequest,
    JobScaleRequest,
    NodeUpdateDrainRequest,
    NodeUpdateEligibilityRequest,
    PeriodicForceRequest,
)
from nomadic.telemetry import default_sink

from .client import RPCPool, RPCUnavailableError
from .gossip import Gossip, GossipConfig
from .wire import (
    FORWARDED_HEADER,
    GRPC_OPTIONS,
    REGION_FORWARDED_HEADER,
    REGION_HEADER,
    AllocsReply,
    AllocStopRequest,
    Empty,
    EvalAckRequest,
    EvalDequeueReply,
    EvalDequeueRequest,
    EvalUpdateWire,
    GetClientAllocsRequest,
    GossipMessage,
    IndexReply,
    JobDeregisterRequest,
    MemberInfo,
    RemovePeerRequest,
    Reply,
    SnapshotRestoreRequest,
    UpdateAllocRequest,
    UpdateStatusRequest,
    decode_error,
)
from .wire import encode_error as _encode_error
from .worker_client import RemoteSchedulingLeader

# Calls that reached gRPC core but that the aio server has not picked up yet are "pending";
# gRPC core drops them at random (status CANCELLED, nothing logged on either side) above
# 1,000 and all of them at 3,000. Every client node holds a blocking Node.GetClientAllocs, and
# an allocation write wakes thousands of those at once, whose next calls then arrive together:
# with 5,000 nodes that burst CANCELLED heartbeats and Job.Register calls (benchmarks/c1m.py
# --cluster lost jobs and stalled). The calls themselves are the real bound, so lift the limit.
MAX_PENDING_CALLS = 1_000_000
SERVER_OPTIONS = (
    *GRPC_OPTIONS,
    ("grpc.server.max_pending_requests", MAX_PENDING_CALLS),
    ("grpc.server.max_pending_requests_hard_limit", MAX_PENDING_CALLS),
)

if TYPE_CHECKING:
    from nomadic.server import Server

__all__ = ["RPCServer"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class _Method:
    request: type[Any]
    handler: Handler
    write: bool


class RPCServer:
    """Serves ``Node.*`` and ``Status.*`` for ``server`` on ``bind:port``.

    Start it before Raft (``attach`` the Server later): joining servers ask each other's
    ``Status.Member`` to learn Raft addresses before the Raft cluster can form.
    """

    def __init__(
        self,
        bind: str,
        port: int,
        member: MemberInfo,
        pool: RPCPool,
        gossip: GossipConfig | None = None,
    ) -> None:
        self.bind = bind
        self.port = port
        self.member = member
        self.pool = pool
        self.server: Server | None = None
        # every server of every region (WAN gossip); started by the agent
        self.gossip = Gossip(member, pool, gossip)
        self.gossip.is_leader = self._leads
        self.gossip.on_learn = self._learn_gossiped
        # Raft address -> RPC address of every server we know, filled by joins.
        self.rpc_by_raft: dict[str, str] = {member.raft_addr: member.rpc_addr}
        self.name_by_raft: dict[str, str] = {member.raft_addr: member.name}
        self._grpc: grpc.aio.Server | None = None
        self._methods: dict[str, _Method] = {
            "Node.Register": _Method(Node, self._node_register, write=True),
            "Node.UpdateStatus": _Method(UpdateStatusRequest, self._node_update_status, True),
            "Node.UpdateAlloc": _Method(UpdateAllocRequest, self._node_update_alloc, True),
            "Node.GetClientAllocs": _Method(GetClientAllocsRequest, self._client_allocs, False),
            "Job.Register": _Method(JobRegisterRequest, self._job_register, write=True),
            "Job.Deregister": _Method(JobDeregisterRequest, self._job_deregister, write=True),
            "Job.Dispatch": _Method(JobDispatchRequest, self._job_dispatch, write=True),
            "Job.PeriodicForce": _Method(PeriodicForceRequest, self._periodic_force, True),
            "Job.Revert": _Method(JobRevertRequest, self._job_revert, write=True),
            "Job.Scale": _Method(JobScaleRequest, self._job_scale, write=True),
            "Alloc.Stop": _Method(AllocStopRequest, self._alloc_stop, write=True),
            **self._deployment_methods(),
            "Node.UpdateDrain": _Method(NodeUpdateDrainRequest, self._node_drain, write=True),
            "Node.UpdateEligibility": _Method(
                NodeUpdateEligibilityRequest, self._node_eligibility, write=True
            ),
            "Operator.SchedulerSetConfiguration": _Method(
                SchedulerConfiguration, self._scheduler_set_config, write=True
            ),
            "Operator.SnapshotSave": _Method(Empty, self._snapshot_save, write=True),
            "Operator.SnapshotRestore": _Method(
                SnapshotRestoreRequest, self._snapshot_restore, write=True
            ),
            "Operator.RaftRemovePeer": _Method(
                RemovePeerRequest, self._raft_remove_peer, write=True
            ),
            # scheduler workers of followers (leader only, like writes)
            "Eval.Dequeue": _Method(EvalDequeueRequest, self._eval_dequeue, write=True),
            "Eval.Ack": _Method(EvalAckRequest, self._eval_ack, write=True),
            "Eval.Nack": _Method(EvalAckRequest, self._eval_nack, write=True),
            "Eval.Update": _Method(EvalUpdateWire, self._eval_update, write=True),
            "Eval.Create": _Method(EvalUpdateWire, self._eval_update, write=True),
            "Plan.Submit": _Method(Plan, self._plan_submit, write=True),
            "Status.Member": _Method(Empty, self._status_member, write=False),
            "Status.Leader": _Method(Empty, self._status_leader, write=False),
            "Status.Peers": _Method(Empty, self._status_peers, write=False),
            "Status.Gossip": _Method(GossipMessage, self._status_gossip, write=False),
        }

    def attach(self, server: Server) -> None:
        """Serve ``server``; its HTTP-facing writes on a follower go to the leader via us."""
        self.server = server
        server.forwarder = self.forward_write
        server.remote_leader = self.remote_scheduling_leader
        server.rpc_by_raft = self.rpc_by_raft
        server.name_by_raft = self.name_by_raft
        server.gossip = self.gossip
        server.cross_region = self.region_rpc

    async def region_rpc(
        self, region: str, method: str, body: Any, reply: type[T], *, timeout: float = 15.0
    ) -> T:
        """Call ``method`` in ``region``: here when it is ours (a follower forwards writes to
        the leader as usual), else on a live server there (RegionUnavailableError if none)."""
        if region in ("", self.member.region):
            return await self.pool.call(self.member.rpc_addr, method, body, reply, timeout=timeout)
        return await self.gossip.region_call(region, method, body, reply, timeout=timeout)

    async def forward_write(self, method: str, body: Any, reply: type[T]) -> T:
        """Call ``method`` on the leader (a follower's HTTP write); NoLeaderError if none."""
        leader = self.leader_rpc_addr()
        if not leader or leader == self.member.rpc_addr:
            raise NoLeaderError()
        try:
            return await self.pool.call(leader, method, body, reply, forwarded=True)
        except RPCUnavailableError as exc:
            log.warning("leader unreachable, write refused: %s", exc)
            raise NoLeaderError() from None

    def remote_scheduling_leader(self) -> RemoteSchedulingLeader | None:
        """The leader's Eval/Plan endpoints for this follower's workers; None if unknown."""
        leader = self.leader_rpc_addr()
        if not leader or leader == self.member.rpc_addr:
            return None
        return RemoteSchedulingLeader(self.pool, leader)

    async def start(self) -> None:
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for name in self._methods:
            service, _, method = name.partition(".")
            by_service.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
                self._make_handler(name)
            )
        self._grpc = grpc.aio.server(options=SERVER_OPTIONS)
        for service, handlers in by_service.items():
            self._grpc.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, handlers),)
            )
        addr = f"{self.bind}:{self.port}"
        if self.pool.tls is None:
            self._grpc.add_insecure_port(addr)
        else:  # the pool's certificate serves both ways: mutual TLS
            self._grpc.add_secure_port(addr, self.pool.tls.server_credentials())
        await self._grpc.start()
        tls = " (mutual TLS)" if self.pool.tls else ""
        log.info("rpc listening on %s:%d%s", self.bind, self.port, tls)

    async def stop(self) -> None:
        if self._grpc is not None:
            await self._grpc.stop(grace=0.5)
            self._grpc = None

    # -- dispatch -----------------------------------------------------------------------

    def _make_handler(self, name: str) -> Callable[[bytes, Any], Awaitable[bytes]]:
        method = self._methods[name]

        async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            headers = dict(context.invocation_metadata() or ())
            forwarded = FORWARDED_HEADER in headers
            region = headers.get(REGION_HEADER, "")
            start = time.monotonic()
            labels = {"method": name}
            # Nomad counts writes as requests and reads as queries
            default_sink.incr_counter(
                "nomad.nomad.rpc.request" if method.write else "nomad.nomad.rpc.query", 1, labels
            )
            try:
                if region and region != self.member.region:
                    return await self._forward_region(region, name, request, headers)
                if method.write and not forwarded and not self._leads():
                    return await self._forward(name, request)
                if method.write and not self._leads():
                    raise NoLeaderError()
                body = msgspec.msgpack.decode(request, type=method.request)
                result = await method.handler(body)
                return msgspec.msgpack.encode(Reply(body=to_msgpack(result)))
            except NomadicError as exc:
                default_sink.incr_counter("nomad.nomad.rpc.request_error", 1, labels)
                return _encode_error(exc)
            except msgspec.ValidationError as exc:
                from nomadic.errors import ValidationError

                default_sink.incr_counter("nomad.nomad.rpc.request_error", 1, labels)
                return _encode_error(ValidationError(f"{name}: malformed request: {exc}"))
            finally:
                default_sink.measure_since("nomad.nomad.rpc.request_time", start, labels)

        return handle

    def _leads(self) -> bool:
        return self.server is not None and self.server.is_leader()

    def learn(self, member: MemberInfo, *, dial: bool = True) -> None:
        """Remember another server's addresses and name (from a join or the peer file); with
        ``dial`` the gossip also contacts it, so a Raft peer is in the member table."""
        self.rpc_by_raft[member.raft_addr] = member.rpc_addr
        self.name_by_raft[member.raft_addr] = member.name
        if dial and member.rpc_addr != self.member.rpc_addr:
            self.gossip.add_join(member.rpc_addr)

    def leader_rpc_addr(self) -> str:
        """The leader's RPC address as far as this server knows, "" when unknown."""
        if self.server is None:
            return ""
        if self.server.is_leader():
            return self.member.rpc_addr
        return self.rpc_by_raft.get(self.server.raft.leader(), "")

    async def _forward(self, name: str, request: bytes) -> bytes:
        leader = self.leader_rpc_addr()
        if not leader or leader == self.member.rpc_addr:
            raise NoLeaderError()
        try:
            reply = await self.pool.call_raw(leader, name, request, forwarded=True)
        except RPCUnavailableError as exc:
            # a leader we cannot reach is no leader for this write; the caller may retry
            log.warning("leader unreachable, write refused: %s", exc)
            raise NoLeaderError() from None
        if reply.error_kind:
            raise decode_error(reply)
        return msgspec.msgpack.encode(reply)

    async def _forward_region(
        self, region: str, name: str, request: bytes, headers: dict[str, Any]
    ) -> bytes:
        if REGION_FORWARDED_HEADER in headers:  # forwarded once already: never loop
            raise RegionUnavailableError(
                f'No path to region "{region}": the request reached region '
                f'"{self.member.region}" instead'
            )
        reply = await self.gossip.region_call_raw(region, name, request)
        if reply.error_kind:
            raise decode_error(reply)
        return msgspec.msgpack.encode(reply)

    def _learn_gossiped(self, member: MemberInfo) -> None:
        """Same-region servers gossip told us of: their Raft -> RPC address, for forwarding."""
        if member.region == self.member.region and member.raft_addr:
            self.learn(member, dial=False)

    def _require(self) -> Server:
        if self.server is None:
            raise NoLeaderError("server is starting; no cluster leader yet")
        return self.server

    # -- endpoints ----------------------------------------------------------------------

    async def _node_register(self, node: Node) -> Any:
        resp = await self._require().nodes.register(node)
        return resp

    async def _node_update_status(self, req: UpdateStatusRequest) -> Any:
        return await self._require().nodes.update_status(req.node_id, req.status)

    async def _node_update_alloc(self, req: UpdateAllocRequest) -> IndexReply:
        return IndexReply(index=await self._require().nodes.update_alloc(req.alloc))

    async def _client_allocs(self, req: GetClientAllocsRequest) -> AllocsReply:
        server = self._require()
        allocs, index = await server.nodes.get_client_allocs(
            req.node_id, req.min_index, req.timeout
        )
        return AllocsReply(allocs=allocs, index=index)

    async def _job_register(self, req: JobRegisterRequest) -> Any:
        return await self._require().jobs.register(
            req.job, enforce_index=req.enforce_index, job_modify_index=req.job_modify_index
        )

    async def _job_deregister(self, req: JobDeregisterRequest) -> Any:
        return await self._require().jobs.deregister(req.namespace, req.job_id, purge=req.purge)

    async def _job_dispatch(self, req: JobDispatchRequest) -> Any:
        return await self._require().jobs.dispatch(req)

    async def _periodic_force(self, req: PeriodicForceRequest) -> Any:
        return await self._require().job_periodic_force(req.namespace, req.job_id)

    async def _job_revert(self, req: JobRevertRequest) -> Any:
        return await self._require().jobs.revert(req)

    async def _job_scale(self, req: JobScaleRequest) -> Any:
        return await self._require().jobs.scale(req)

    async def _alloc_stop(self, req: AllocStopRequest) -> Any:
        return await self._require().allocs.stop(req.alloc_id)

    # Deployment.* (the leader's DeploymentEndpoint, through the Server's DeploymentAPI)

    def _deployment_methods(self) -> dict[str, _Method]:
        return {
            "Deployment.Pause": _Method(DeploymentPauseRequest, self._deployment_pause, True),
            "Deployment.Promote": _Method(DeploymentPromoteRequest, self._deployment_promote, True),
            "Deployment.Fail": _Method(DeploymentRequest, self._deployment_fail, True),
            "Deployment.Run": _Method(DeploymentRequest, self._deployment_run, True),
            "Deployment.Unblock": _Method(DeploymentRequest, self._deployment_unblock, True),
            "Deployment.SetAllocHealth": _Method(
                DeploymentAllocHealthRequest, self._deployment_alloc_health, True
            ),
            # reads, from this server's state (a coordinator in another region asks here)
            "Deployment.GetDeployment": _Method(
                DeploymentSpecificRequest, self._deployment_get, False
            ),
            "Job.LatestDeployment": _Method(
                DeploymentSpecificRequest, self._deployment_latest, False
            ),
        }

    async def _deployment_get(self, req: DeploymentSpecificRequest) -> DeploymentReply:
        snap = self._require().snapshot()
        found = snap.deployment_by_id(req.deployment_id)
        return DeploymentReply(deployment=found, index=snap.table_index("deployments"))

    async def _deployment_latest(self, req: DeploymentSpecificRequest) -> DeploymentReply:
        snap = self._require().snapshot()
        found = snap.latest_deployment_by_job(req.namespace, req.job_id)
        return DeploymentReply(deployment=found, index=snap.table_index("deployments"))

    async def _deployment_pause(self, req: DeploymentPauseRequest) -> Any:
        return await self._require().deployment_pause(req)

    async def _deployment_promote(self, req: DeploymentPromoteRequest) -> Any:
        return await self._require().deployment_promote(req)

    async def _deployment_fail(self, req: DeploymentRequest) -> Any:
        return await self._require().deployment_fail(req)

    async def _deployment_run(self, req: DeploymentRequest) -> Any:
        return await self._require().deployment_run(req)

    async def _deployment_unblock(self, req: DeploymentRequest) -> Any:
        return await self._require().deployment_unblock(req)

    async def _deployment_alloc_health(self, req: DeploymentAllocHealthRequest) -> Any:
        return await self._require().deployment_alloc_health(req)

    async def _eval_dequeue(self, req: EvalDequeueRequest) -> EvalDequeueReply:
        timeout = min(max(req.timeout, 0.0), 30.0)
        got = await self._require().evals.dequeue(req.schedulers, timeout)
        if got is None:
            return EvalDequeueReply()
        ev, token, wait_index = got
        return EvalDequeueReply(eval=ev, token=token, wait_index=wait_index)

    async def _eval_ack(self, req: EvalAckRequest) -> IndexReply:
        await self._require().evals.ack(req.eval_id, req.token)
        return IndexReply()

    async def _eval_nack(self, req: EvalAckRequest) -> IndexReply:
        await self._require().evals.nack(req.eval_id, req.token)
        return IndexReply()

    async def _eval_update(self, req: EvalUpdateWire) -> IndexReply:
        index = await self._require().evals.update_evals(req.eval_id, req.token, req.evals)
        return IndexReply(index=index)

    async def _plan_submit(self, plan: Plan) -> PlanResult:
        return await self._require().evals.submit_plan(plan)

    async def _raft_remove_peer(self, req: RemovePeerRequest) -> str:
        return await self._require().raft_remove_peer(req.address)

    async def _node_drain(self, req: NodeUpdateDrainRequest) -> Any:
        return await self._require().node_update_drain(req)

    async def _node_eligibility(self, req: NodeUpdateEligibilityRequest) -> Any:
        return await self._require().node_update_eligibility(req)

    async def _scheduler_set_config(self, req: SchedulerConfiguration) -> Any:
        return await self._require().scheduler_set_config(req)

    async def _snapshot_save(self, _req: Empty) -> bytes:
        return await self._require().snapshot_save()

    async def _snapshot_restore(self, req: SnapshotRestoreRequest) -> IndexReply:
        return IndexReply(index=await self._require().snapshot_restore(req.data))

    async def _status_member(self, _req: Empty) -> MemberInfo:
        return msgspec.structs.replace(self.member, leader=self._leads())

    async def _status_leader(self, _req: Empty) -> str:
        return self.leader_rpc_addr()

    async def _status_gossip(self, req: GossipMessage) -> GossipMessage:
        return self.gossip.receive(req)

    async def _status_peers(self, _req: Empty) -> list[str]:
        server = self._require()
        return sorted(self.rpc_by_raft.get(p, p) for p in server.peers())
