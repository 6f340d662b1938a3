"""Builders and a small fake scheduler for server tests (the real one is another package).

The fake places each missing allocation of a job on the first ready node it fits on, stops
allocations of stopped jobs and allocations marked for migration, and blocks the eval when
something could not be placed: enough to drive broker, plan applier and blocked evals.
"""

from __future__ import annotations

import socket
import uuid

import msgspec

from nomadic.scheduler.interfaces import Planner, Scheduler, State
from nomadic.server import ServerConfig
from nomadic.server.heartbeat import HeartbeatConfig
from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedTaskResources,
    Allocation,
    AllocMetric,
    Evaluation,
    Job,
    Node,
    NodeCpuResources,
    NodeDiskResources,
    NodeMemoryResources,
    NodeResources,
    Plan,
    Resources,
    Task,
    TaskGroup,
)
from nomadic.structs.funcs import allocs_fit


def make_job(job_id: str = "web", *, count: int = 1, memory_mb: int = 256) -> Job:
    task = Task(
        name="t",
        driver="raw_exec",
        config={"command": "/bin/true"},
        resources=Resources(cpu=100, memory_mb=memory_mb),
    )
    return Job(id=job_id, task_groups=[TaskGroup(name="g", count=count, tasks=[task])])


def make_node(node_id: str = "n1", *, memory_mb: int = 1024, status: str = "ready") -> Node:
    return Node(
        id=node_id,
        secret_id="secret-" + node_id,
        name=node_id,
        status=status,
        node_resources=NodeResources(
            cpu=NodeCpuResources(cpu_shares=4000),
            memory=NodeMemoryResources(memory_mb=memory_mb),
            disk=NodeDiskResources(disk_mb=10_000),
        ),
    )


def make_alloc(job: Job, node_id: str, *, memory_mb: int = 256, index: int = 0) -> Allocation:
    return Allocation(
        id=str(uuid.uuid4()),
        namespace=job.namespace,
        name=f"{job.id}.g[{index}]",
        node_id=node_id,
        job_id=job.id,
        task_group="g",
        allocated_resources=AllocatedResources(
            tasks={
                "t": AllocatedTaskResources(
                    cpu=AllocatedCpuResources(cpu_shares=100),
                    memory=AllocatedMemoryResources(memory_mb=memory_mb),
                )
            }
        ),
    )


class FakeScheduler:
    def __init__(self, state: State, planner: Planner) -> None:
        self.state = state
        self.planner = planner

    def process(self, evaluation: Evaluation) -> None:
        job = self.state.job_by_id(evaluation.namespace, evaluation.job_id)
        live = [
            a
            for a in self.state.allocs_by_job(evaluation.namespace, evaluation.job_id)
            if not a.terminal()
        ]
        plan = Plan(eval_id=evaluation.id, job=job, priority=evaluation.priority)
        keep = []
        for a in live:
            if job is None or job.stop or a.desired_transition.migrate:
                plan.append_stopped_alloc(msgspec.structs.replace(a, desired_status="stop"))
            else:
                keep.append(a)
        unplaced = self._place(job, plan, keep) if job and not job.stop else 0
        if not plan.is_noop():
            self.planner.submit_plan(plan)
        update = msgspec.structs.replace(evaluation, status="complete")
        if unplaced:
            blocked = msgspec.structs.replace(
                evaluation,
                id=str(uuid.uuid4()),
                status="blocked",
                triggered_by="queued-allocs",
                previous_eval=evaluation.id,
            )
            self.planner.create_eval(blocked)
            update = msgspec.structs.replace(
                update, blocked_eval=blocked.id, failed_tg_allocs={"g": AllocMetric()}
            )
        self.planner.update_eval(update)

    def _place(self, job: Job, plan: Plan, keep: list[Allocation]) -> int:
        tg = job.task_groups[0]
        memory = tg.tasks[0].resources.memory_mb
        missing = tg.count - len(keep)
        for i in range(missing):
            placed = False
            for node in self.state.nodes():
                if not node.ready():
                    continue
                on_node = [a for a in self.state.allocs_by_node(node.id) if not a.terminal()]
                stopping = {a.id for a in plan.node_update.get(node.id, [])}
                on_node = [a for a in on_node if a.id not in stopping]
                candidate = make_alloc(job, node.id, memory_mb=memory, index=len(keep) + i)
                candidate = msgspec.structs.replace(candidate, eval_id=plan.eval_id, job=job)
                proposed = on_node + plan.node_allocation.get(node.id, []) + [candidate]
                if allocs_fit(node, proposed)[0]:
                    plan.append_alloc(candidate)
                    placed = True
                    break
            if not placed:
                return missing - i
        return 0


def fake_factory(eval_type: str, state: State, planner: Planner) -> Scheduler:
    return FakeScheduler(state, planner)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_config(**overrides: object) -> ServerConfig:
    fields: dict[str, object] = {
        "raft_port": free_port(),
        "num_schedulers": 2,
        "node_name": "test",
        # long TTLs so nodes stay up unless a test asks otherwise
        "heartbeat": HeartbeatConfig(min_heartbeat_ttl=60, heartbeat_grace=60),
    }
    fields.update(overrides)
    return ServerConfig(**fields)  # type: ignore[arg-type]
