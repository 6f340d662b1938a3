"""The scheduler's two seams: the State it reads and the Planner it submits to.

The scheduler is pure: it reads a consistent snapshot through :class:`State` and hands a
:class:`~nomadic.structs.Plan` to a :class:`Planner`. The server's worker implements Planner
over the leader's plan queue; tests use the in-memory Harness in ``nomadic.testing``.
"""

from __future__ import annotations

from typing import Protocol

from nomadic.structs import (
    Allocation,
    Deployment,
    Evaluation,
    Job,
    Node,
    Plan,
    PlanResult,
    SchedulerConfiguration,
)
from nomadic.structs.funcs import NodeAllocsUsage


class State(Protocol):
    """Read-only, consistent view of cluster state (a state store snapshot)."""

    def latest_index(self) -> int: ...

    def job_by_id(self, namespace: str, job_id: str) -> Job | None: ...

    def nodes(self) -> list[Node]: ...

    def node_by_id(self, node_id: str) -> Node | None: ...

    def allocs_by_job(self, namespace: str, job_id: str) -> list[Allocation]: ...

    def allocs_by_node(self, node_id: str) -> list[Allocation]: ...

    def alloc_by_id(self, alloc_id: str) -> Allocation | None: ...

    def node_usage(self, node_id: str) -> NodeAllocsUsage:
        """What the node's non-terminal allocations hold (an index: no walk over them)."""
        ...

    def eval_by_id(self, eval_id: str) -> Evaluation | None: ...

    def latest_deployment_by_job(self, namespace: str, job_id: str) -> Deployment | None:
        """The job's newest deployment (any status)."""
        ...

    def scheduler_config(self) -> SchedulerConfiguration:
        """The operator's scheduler configuration (defaults when never set)."""
        ...


class Planner(Protocol):
    """Where a scheduler sends its decisions. Calls may block (they run in a worker thread)."""

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, State | None]:
        """Commit ``plan``; returns the result and, when partially committed, a fresher State."""
        ...

    def update_eval(self, evaluation: Evaluation) -> None: ...

    def create_eval(self, evaluation: Evaluation) -> None: ...

    def reblock_eval(self, evaluation: Evaluation) -> None: ...


class Scheduler(Protocol):
    def process(self, evaluation: Evaluation) -> None: ...
