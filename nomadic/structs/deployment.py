"""Deployment: the rollout of one job version (Nomad's ``nomad/structs/deployment.go``).

A service job whose groups have an ``update`` block gets a deployment when a new version
changes allocations (or on its first run). The scheduler creates it in the plan; the state
store counts placed, healthy and unhealthy allocations into its per-group
:class:`DeploymentState` as allocations are written; the leader's deployment watcher fails,
promotes or (through the scheduler) completes it.

    running <-> paused          (pause/resume)
    running --> successful      (every group healthy; canaries promoted)
    running --> failed          (unhealthy alloc, progress deadline, `deployment fail`)
    running --> cancelled       (a newer job version, or the job stopped)
    multiregion: pending --run--> running --> blocked --unblock--> successful
"""

from __future__ import annotations

from typing import Final

import msgspec

from .codec import Base
from .consts import DEFAULT_NAMESPACE

__all__ = [
    "ACTIVE_DEPLOYMENT_STATUSES",
    "DEPLOYMENT_DESC_AUTO_PROMOTION",
    "DEPLOYMENT_DESC_BLOCKED",
    "DEPLOYMENT_DESC_FAILED_ALLOCS",
    "DEPLOYMENT_DESC_FAILED_BY_USER",
    "DEPLOYMENT_DESC_NEEDS_PROMOTION",
    "DEPLOYMENT_DESC_NEWER_JOB",
    "DEPLOYMENT_DESC_PAUSED",
    "DEPLOYMENT_DESC_PENDING_FOR_PEER",
    "DEPLOYMENT_DESC_PROGRESS_DEADLINE",
    "DEPLOYMENT_DESC_RUNNING",
    "DEPLOYMENT_DESC_STOPPED_JOB",
    "DEPLOYMENT_DESC_SUCCESSFUL",
    "DEPLOYMENT_STATUS_BLOCKED",
    "DEPLOYMENT_STATUS_CANCELLED",
    "DEPLOYMENT_STATUS_FAILED",
    "DEPLOYMENT_STATUS_PAUSED",
    "DEPLOYMENT_STATUS_PENDING",
    "DEPLOYMENT_STATUS_RUNNING",
    "DEPLOYMENT_STATUS_SUCCESSFUL",
    "DEPLOYMENT_STATUS_UNBLOCKING",
    "AllocDeploymentStatus",
    "Deployment",
    "DeploymentAllocHealthRequest",
    "DeploymentPauseRequest",
    "DeploymentPromoteRequest",
    "DeploymentReply",
    "DeploymentRequest",
    "DeploymentSpecificRequest",
    "DeploymentState",
    "DeploymentStatusUpdate",
    "DeploymentUpdateResponse",
    "rollback_description",
]

DEPLOYMENT_STATUS_RUNNING: Final = "running"
DEPLOYMENT_STATUS_PAUSED: Final = "paused"
DEPLOYMENT_STATUS_FAILED: Final = "failed"
DEPLOYMENT_STATUS_SUCCESSFUL: Final = "successful"
DEPLOYMENT_STATUS_CANCELLED: Final = "cancelled"
DEPLOYMENT_STATUS_PENDING: Final = "pending"
DEPLOYMENT_STATUS_BLOCKED: Final = "blocked"
DEPLOYMENT_STATUS_UNBLOCKING: Final = "unblocking"
ACTIVE_DEPLOYMENT_STATUSES: Final = frozenset(
    {
        DEPLOYMENT_STATUS_RUNNING,
        DEPLOYMENT_STATUS_PAUSED,
        DEPLOYMENT_STATUS_PENDING,
        DEPLOYMENT_STATUS_BLOCKED,
        DEPLOYMENT_STATUS_UNBLOCKING,
    }
)

# Nomad's DeploymentStatusDescription* texts
DEPLOYMENT_DESC_RUNNING: Final = "Deployment is running"
DEPLOYMENT_DESC_NEEDS_PROMOTION: Final = "Deployment is running but requires manual promotion"
DEPLOYMENT_DESC_AUTO_PROMOTION: Final = "Deployment is running pending automatic promotion"
DEPLOYMENT_DESC_PAUSED: Final = "Deployment is paused"
DEPLOYMENT_DESC_SUCCESSFUL: Final = "Deployment completed successfully"
DEPLOYMENT_DESC_STOPPED_JOB: Final = "Cancelled because job is stopped"
DEPLOYMENT_DESC_NEWER_JOB: Final = "Cancelled due to newer version of job"
DEPLOYMENT_DESC_FAILED_ALLOCS: Final = "Failed due to unhealthy allocations"
DEPLOYMENT_DESC_PROGRESS_DEADLINE: Final = "Failed due to progress deadline"
DEPLOYMENT_DESC_FAILED_BY_USER: Final = "Deployment marked as failed"
DEPLOYMENT_DESC_PENDING_FOR_PEER: Final = "Deployment is pending, waiting for peer region"
DEPLOYMENT_DESC_BLOCKED: Final = "Deployment is complete but waiting for peer region"


def rollback_description(base: str, version: int | None) -> str:
    """Nomad's DeploymentStatusDescriptionRollback / ...NoRollbackTarget."""
    if version is None:
        return f"{base} - no stable job version to auto revert to"
    return f"{base} - rolling back to job version {version}"


class DeploymentState(Base):
    """One task group's progress in a deployment (times in Unix nanoseconds)."""

    auto_revert: bool = False
    auto_promote: bool = False
    progress_deadline: int = 0
    require_progress_by: int = 0
    promoted: bool = False
    placed_canaries: list[str] = msgspec.field(default_factory=list)
    desired_canaries: int = 0
    desired_total: int = 0
    placed_allocs: int = 0
    healthy_allocs: int = 0
    unhealthy_allocs: int = 0


class Deployment(Base):
    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    job_id: str = ""
    job_version: int = 0
    job_modify_index: int = 0
    job_spec_modify_index: int = 0
    job_create_index: int = 0
    is_multiregion: bool = False
    task_groups: dict[str, DeploymentState] = msgspec.field(default_factory=dict)
    status: str = DEPLOYMENT_STATUS_RUNNING
    status_description: str = DEPLOYMENT_DESC_RUNNING
    eval_priority: int = 50
    create_index: int = 0
    modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0

    def active(self) -> bool:
        return self.status in ACTIVE_DEPLOYMENT_STATUSES

    def requires_promotion(self) -> bool:
        """Some group has canaries that are not promoted yet."""
        return any(s.desired_canaries > 0 and not s.promoted for s in self.task_groups.values())


class DeploymentStatusUpdate(Base):
    """A change of a deployment's status (plans carry these as ``DeploymentUpdates``)."""

    deployment_id: str = ""
    status: str = ""
    status_description: str = ""


class AllocDeploymentStatus(Base):
    """An allocation's health within its deployment, as its client (or the watcher) saw it."""

    healthy: bool | None = None
    timestamp: int = 0
    canary: bool = False
    modify_index: int = 0

    def has_health(self) -> bool:
        return self.healthy is not None

    def is_healthy(self) -> bool:
        return self.healthy is True

    def is_unhealthy(self) -> bool:
        return self.healthy is False


# -- requests and responses of the Deployment endpoints (Nomad's deployment_endpoint.go) ------


class DeploymentRequest(Base):
    """Deployment.Fail / Run / Unblock, and the reads: one deployment by ID."""

    deployment_id: str = ""


class DeploymentPauseRequest(Base):
    deployment_id: str = ""
    pause: bool = False


class DeploymentPromoteRequest(Base):
    deployment_id: str = ""
    all: bool = False
    groups: list[str] = msgspec.field(default_factory=list)


class DeploymentAllocHealthRequest(Base):
    deployment_id: str = ""
    healthy_allocation_ids: list[str] = msgspec.field(default_factory=list)
    unhealthy_allocation_ids: list[str] = msgspec.field(default_factory=list)


class DeploymentSpecificRequest(Base):
    """Reads over RPC: one deployment by ID, or (``job_id`` set) the job's latest."""

    deployment_id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    job_id: str = ""


class DeploymentReply(Base):
    deployment: Deployment | None = None
    index: int = 0


class DeploymentUpdateResponse(Base):
    eval_id: str = ""
    eval_create_index: int = 0
    deployment_modify_index: int = 0
    reverted_job_version: int | None = None
    index: int = 0
