"""What the HTTP API needs from the agent it serves: the server role and the client role.

``ServerAPI`` is implemented by ``nomadic.server.Server``; ``ClientAPI`` by
``nomadic.client.Client``. An agent may have either or both; handlers answer 501
("this agent is not running a server/client") when a role is missing. The
``/v1/agent/*`` endpoints live in :mod:`nomadic.http.agent_endpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nomadic.plugin import ExecStreams, ExitResult
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import Job, SchedulerConfiguration
from nomadic.structs.deployment import (
    DeploymentAllocHealthRequest,
    DeploymentPauseRequest,
    DeploymentPromoteRequest,
    DeploymentRequest,
    DeploymentUpdateResponse,
)
from nomadic.structs.requests import (
    AllocStopResponse,
    JobDeregisterResponse,
    JobDispatchRequest,
    JobDispatchResponse,
    JobPlanResponse,
    JobRegisterResponse,
    JobRevertRequest,
    JobScaleRequest,
    JobScaleStatusResponse,
    NodeUpdateDrainRequest,
    NodeUpdateEligibilityRequest,
    NodeUpdateResponseEvals,
    PeriodicForceResponse,
    SchedulerSetConfigResponse,
    ServerMember,
)

if TYPE_CHECKING:
    from nomadic.server.event_broker import EventBroker


class ServerAPI(Protocol):
    region: str
    datacenter: str
    events: EventBroker  # the event stream's buffer (/v1/event/stream)

    def snapshot(self) -> StateSnapshot: ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int:
        """Blocking-query support: return once the state index exceeds ``min_index`` or after
        ``timeout`` seconds, with the current index."""
        ...

    async def job_register(
        self, job: Job, *, enforce_index: bool = False, job_modify_index: int = 0
    ) -> JobRegisterResponse:
        """Canonicalize, validate (raises ValidationError), store the job, create an eval."""
        ...

    async def job_plan(self, job: Job, *, diff: bool = False) -> JobPlanResponse:
        """A scheduler dry run of ``job`` (Job.Plan); raises ValidationError."""
        ...

    async def job_deregister(
        self, namespace: str, job_id: str, *, purge: bool = False, global_: bool = False
    ) -> JobDeregisterResponse:
        """Stop (or purge) a job; ``global_``: in every region of a multiregion job. Raises
        NotFoundError for an unknown job."""
        ...

    async def job_dispatch(self, req: JobDispatchRequest) -> JobDispatchResponse:
        """Dispatch a child of a parameterized job; raises ValidationError/NotFoundError."""
        ...

    async def job_periodic_force(self, namespace: str, job_id: str) -> PeriodicForceResponse:
        """Launch a periodic job's child now."""
        ...

    async def job_revert(self, req: JobRevertRequest) -> JobRegisterResponse:
        """Register an earlier version of a job again."""
        ...

    async def job_scale(self, req: JobScaleRequest) -> JobRegisterResponse:
        """Set one task group's count."""
        ...

    def job_scale_status(self, namespace: str, job_id: str) -> JobScaleStatusResponse: ...

    async def alloc_stop(self, alloc_id: str) -> AllocStopResponse:
        """Stop one allocation and create an eval so it is replaced."""
        ...

    async def node_update_drain(self, req: NodeUpdateDrainRequest) -> NodeUpdateResponseEvals:
        """Start or stop draining a node; raises NotFoundError."""
        ...

    async def node_update_eligibility(
        self, req: NodeUpdateEligibilityRequest
    ) -> NodeUpdateResponseEvals:
        """Mark a node (in)eligible; raises ValidationError while it drains."""
        ...

    async def scheduler_set_config(
        self, config: SchedulerConfiguration
    ) -> SchedulerSetConfigResponse:
        """Replace the scheduler configuration (Raft)."""
        ...

    def leader_addr(self) -> str:
        """RPC address of the current leader, "" when there is none."""
        ...

    def peers(self) -> list[str]: ...

    def raft_stats(self) -> dict[str, str]:
        """``/v1/agent/self``'s ``stats.raft``: term, commit and applied index, elections."""
        ...

    def members(self) -> list[ServerMember]:
        """Every server of every region known to the WAN gossip."""
        ...

    def raft_members(self) -> list[ServerMember]:
        """The servers of this region's Raft configuration."""
        ...

    def regions(self) -> list[str]:
        """Every region with a known server, sorted."""
        ...

    def region_http_addrs(self, region: str) -> list[str]:
        """HTTP addresses of the live servers of ``region`` in random order; raises
        RegionUnavailableError when none is known alive."""
        ...

    async def join(self, addresses: list[str]) -> tuple[int, str]:
        """Federate with the servers at ``addresses`` (RPC host:port): (joined, errors)."""
        ...

    def force_leave(self, name: str) -> bool:
        """Mark the server named ``name`` left; False when it is not known."""
        ...

    async def snapshot_save(self) -> bytes:
        """The cluster's whole state (Operator.SnapshotSave), taken on the leader."""
        ...

    async def snapshot_restore(self, data: bytes) -> int:
        """Replace the cluster's state with a saved snapshot; raises ValidationError."""
        ...

    async def raft_remove_peer(self, address: str) -> str:
        """Remove a server (Raft or RPC address) from the Raft configuration."""
        ...

    # deployments (nomadic.server.deployment_api); each raises NotFoundError/ValidationError
    async def deployment_pause(self, req: DeploymentPauseRequest) -> DeploymentUpdateResponse: ...

    async def deployment_promote(
        self, req: DeploymentPromoteRequest
    ) -> DeploymentUpdateResponse: ...

    async def deployment_fail(self, req: DeploymentRequest) -> DeploymentUpdateResponse: ...

    async def deployment_run(self, req: DeploymentRequest) -> DeploymentUpdateResponse: ...

    async def deployment_unblock(self, req: DeploymentRequest) -> DeploymentUpdateResponse: ...

    async def deployment_alloc_health(
        self, req: DeploymentAllocHealthRequest
    ) -> DeploymentUpdateResponse: ...


class ClientAPI(Protocol):
    node_id: str

    def alloc_dir(self, alloc_id: str) -> Path:
        """Root of the allocation's directory on this client; raises NotFoundError."""
        ...

    async def alloc_stats(self, alloc_id: str) -> dict[str, Any]:
        """Nomad's AllocResourceUsage JSON (ResourceUsage, Tasks{name: TaskResourceUsage},
        Timestamp); raises NotFoundError."""
        ...

    def host_stats(self) -> dict[str, Any]:
        """Nomad's HostStats JSON for /v1/client/stats."""
        ...

    async def alloc_signal(self, alloc_id: str, task: str, signal: str) -> None:
        """Send ``signal`` to one task, or to every task when ``task`` is empty; records a
        "Signaling" event. Raises NotFoundError, ValidationError (task not running)."""
        ...

    async def alloc_restart(self, alloc_id: str, task: str, all_tasks: bool) -> None:
        """Restart one task, the running tasks (no task), or all tasks in place ("Restart
        Signaled"; not counted against the restart policy). Returns once requested."""
        ...

    async def alloc_exec(
        self, alloc_id: str, task: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        """Run ``command`` in the task's environment wired to ``streams`` until it exits."""
        ...
