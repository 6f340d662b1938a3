"""Small builders of jobs, nodes, evals and allocations for state and FSM tests."""

from __future__ import annotations

from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedTaskResources,
    Allocation,
    Evaluation,
    Job,
    Node,
    Resources,
    Task,
    TaskGroup,
    canonicalize,
)


def job(job_id: str = "web", *, count: int = 1, job_type: str = "service", image: str = "a") -> Job:
    task = Task(name="t", driver="raw_exec", config={"command": image}, resources=Resources())
    return canonicalize(
        Job(
            id=job_id,
            type=job_type,
            task_groups=[TaskGroup(name="g", count=count, tasks=[task])],
        )
    )


def node(node_id: str = "n1", *, status: str = "ready") -> Node:
    return Node(id=node_id, secret_id="s-" + node_id, name=node_id, status=status)


def evaluation(eval_id: str, j: Job, *, status: str = "pending") -> Evaluation:
    return Evaluation(
        id=eval_id,
        namespace=j.namespace,
        job_id=j.id,
        type=j.type,
        priority=j.priority,
        triggered_by="job-register",
        status=status,
    )


def alloc(alloc_id: str, j: Job, node_id: str = "n1", *, eval_id: str = "e1") -> Allocation:
    res = AllocatedResources(
        tasks={
            "t": AllocatedTaskResources(
                cpu=AllocatedCpuResources(cpu_shares=100),
                memory=AllocatedMemoryResources(memory_mb=256),
            )
        }
    )
    return Allocation(
        id=alloc_id,
        namespace=j.namespace,
        eval_id=eval_id,
        name=f"{j.id}.g[0]",
        node_id=node_id,
        job_id=j.id,
        job=j,
        task_group="g",
        allocated_resources=res,
    )
