"""The read API of a state snapshot, shared by the scheduler, the endpoints and the HTTP API.

A snapshot is an O(1) immutable view (persistent maps); every list it returns is a fresh list
of the stored objects, which callers must treat as read-only (copy before changing).
"""

from __future__ import annotations

from typing import Protocol

from nomadic.structs import (
    Allocation,
    Deployment,
    Evaluation,
    Job,
    JobSummary,
    Node,
    PeriodicLaunch,
    SchedulerConfiguration,
)


class StateSnapshot(Protocol):
    def latest_index(self) -> int:
        """The highest Raft index applied to any table."""
        ...

    def table_index(self, table: str) -> int:
        """Last index that changed ``table`` ("jobs", "evals", "allocs", "nodes", "job_summary")."""
        ...

    # jobs
    def job_by_id(self, namespace: str, job_id: str) -> Job | None: ...
    def jobs(self, namespace: str | None = None, prefix: str = "") -> list[Job]:
        """Jobs sorted by ID; ``namespace=None`` means every namespace."""
        ...

    def children(self, namespace: str, parent_id: str) -> list[Job]:
        """Children of a periodic or parameterized job (``<parent>/...``), sorted by ID."""
        ...

    def periodic_launch(self, namespace: str, job_id: str) -> PeriodicLaunch | None:
        """When the periodic job last launched a child."""
        ...

    def job_versions(self, namespace: str, job_id: str) -> list[Job]:
        """Stored versions of a job, newest first (at most 6 kept)."""
        ...

    def job_summary(self, namespace: str, job_id: str) -> JobSummary | None: ...

    # evaluations
    def eval_by_id(self, eval_id: str) -> Evaluation | None: ...
    def evals(self, prefix: str = "") -> list[Evaluation]: ...
    def evals_by_job(self, namespace: str, job_id: str) -> list[Evaluation]: ...

    # allocations
    def alloc_by_id(self, alloc_id: str) -> Allocation | None: ...
    def allocs(self, prefix: str = "") -> list[Allocation]: ...
    def allocs_by_job(self, namespace: str, job_id: str) -> list[Allocation]: ...
    def allocs_by_node(self, node_id: str) -> list[Allocation]: ...
    def allocs_by_eval(self, eval_id: str) -> list[Allocation]: ...

    # nodes
    def node_by_id(self, node_id: str) -> Node | None: ...
    def nodes(self, prefix: str = "") -> list[Node]: ...

    # deployments
    def deployment_by_id(self, deployment_id: str) -> Deployment | None: ...
    def deployments(self, prefix: str = "") -> list[Deployment]: ...
    def deployments_by_job(self, namespace: str, job_id: str) -> list[Deployment]:
        """The job's deployments, oldest first."""
        ...

    def latest_deployment_by_job(self, namespace: str, job_id: str) -> Deployment | None: ...

    # operator
    def scheduler_config(self) -> SchedulerConfiguration:
        """The scheduler configuration (defaults when never set)."""
        ...
