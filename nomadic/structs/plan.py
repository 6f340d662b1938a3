"""Plan: what a scheduler wants to change, and PlanResult: what the leader committed."""

from __future__ import annotations

import msgspec

from .alloc import Allocation
from .codec import Base
from .deployment import Deployment, DeploymentStatusUpdate
from .evaluation import Evaluation
from .job import Job


class Plan(Base):
    eval_id: str = ""
    eval_token: str = ""
    priority: int = 50
    all_at_once: bool = False
    job: Job | None = None
    # node ID -> allocations to stop/evict (desired status already set)
    node_update: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    # node ID -> allocations to place or update
    node_allocation: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    node_preemptions: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    annotations: dict[str, dict[str, int]] | None = None
    snapshot_index: int = 0
    # a deployment the scheduler created (or changed), and status changes of others
    deployment: Deployment | None = None
    deployment_updates: list[DeploymentStatusUpdate] = msgspec.field(default_factory=list)

    def is_noop(self) -> bool:
        return not (
            self.node_update
            or self.node_allocation
            or self.node_preemptions
            or self.deployment is not None
            or self.deployment_updates
        )

    def append_alloc(self, alloc: Allocation) -> None:
        self.node_allocation.setdefault(alloc.node_id, []).append(alloc)

    def append_stopped_alloc(self, alloc: Allocation) -> None:
        self.node_update.setdefault(alloc.node_id, []).append(alloc)


class PlanResult(Base):
    node_update: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    node_allocation: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    node_preemptions: dict[str, list[Allocation]] = msgspec.field(default_factory=dict)
    refresh_index: int = 0
    alloc_index: int = 0
    rejected_nodes: list[str] = msgspec.field(default_factory=list)
    deployment: Deployment | None = None
    deployment_updates: list[DeploymentStatusUpdate] = msgspec.field(default_factory=list)

    def full_commit(self, plan: Plan) -> tuple[bool, int, int]:
        """(all committed?, allocations expected, allocations committed)."""
        expected = sum(len(v) for v in plan.node_allocation.values())
        actual = sum(len(v) for v in self.node_allocation.values())
        return expected == actual and not self.rejected_nodes, expected, actual


class EvalUpdate(Base):
    evals: list[Evaluation] = msgspec.field(default_factory=list)
