"""Factories for the objects tests need: a ready node, service and batch jobs, allocs, evals.

Each returns a fresh object with unique IDs; keyword overrides replace fields, e.g.
``mock_node(datacenter="dc2")`` or ``mock_job(priority=70)``. Defaults follow Nomad's
``nomad/mock`` package where it matters (a "web" group of 10, 500 MHz / 256 MB tasks).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    Constraint,
    DriverInfo,
    EphemeralDisk,
    Evaluation,
    Job,
    NetworkResource,
    Node,
    NodeCpuResources,
    NodeDiskResources,
    NodeMemoryResources,
    NodeResources,
    Port,
    ReschedulePolicy,
    Resources,
    Task,
    TaskGroup,
    canonicalize,
)
from nomadic.structs.consts import MINUTE, SECOND
from nomadic.structs.funcs import compute_node_class

__all__ = ["mock_alloc", "mock_batch_job", "mock_eval", "mock_job", "mock_node"]


def _id() -> str:
    return str(uuid.uuid4())


def mock_node(**overrides: Any) -> Node:
    """A ready, eligible linux node in dc1: 4000 MHz, 8192 MB, 100 GB disk, no reservations,
    raw_exec and mock_driver drivers detected and healthy."""
    node_id = overrides.pop("id", None) or _id()
    healthy = DriverInfo(detected=True, healthy=True, health_description="Healthy")
    node = Node(
        id=node_id,
        secret_id=_id(),
        name=f"node-{node_id[:8]}",
        datacenter="dc1",
        http_addr="192.168.0.100:4646",
        status="ready",
        scheduling_eligibility="eligible",
        attributes={
            "kernel.name": "linux",
            "os.name": "ubuntu",
            "arch": "x86_64",
            "cpu.arch": "amd64",
            "nomad.version": "1.9.0",
            "driver.raw_exec": "1",
            "driver.mock_driver": "1",
            "unique.hostname": f"host-{node_id[:8]}",
            "unique.network.ip-address": "192.168.0.100",
        },
        node_resources=NodeResources(
            cpu=NodeCpuResources(cpu_shares=4000, total_cpu_cores=4),
            memory=NodeMemoryResources(memory_mb=8192),
            disk=NodeDiskResources(disk_mb=100 * 1024),
            networks=[
                NetworkResource(
                    mode="host",
                    device="eth0",
                    cidr="192.168.0.100/32",
                    ip="192.168.0.100",
                    mbits=1000,
                )
            ],
        ),
        drivers={"raw_exec": healthy, "mock_driver": msgspec.structs.replace(healthy)},
        meta={},
    )
    node = msgspec.structs.replace(node, **overrides)
    if "computed_class" not in overrides:
        node.computed_class = compute_node_class(node)
    return node


def _web_task(driver: str, config: dict[str, Any], cpu: int, memory: int) -> Task:
    return Task(
        name="web",
        driver=driver,
        config=config,
        env={"FOO": "bar"},
        resources=Resources(cpu=cpu, memory_mb=memory),
        meta={"foo": "bar"},
    )


def mock_job(**overrides: Any) -> Job:
    """A service job: group "web" of count 10, one raw_exec task (500 MHz, 256 MB), dynamic ports
    "http" and "admin", a kernel.name = linux constraint, defaults canonicalized."""
    job_id = overrides.pop("id", None) or f"mock-service-{_id()}"
    job = Job(
        id=job_id,
        name="my-job",
        type="service",
        priority=50,
        datacenters=["dc1"],
        constraints=[Constraint(l_target="${attr.kernel.name}", r_target="linux", operand="=")],
        task_groups=[
            TaskGroup(
                name="web",
                count=10,
                ephemeral_disk=EphemeralDisk(size_mb=150),
                reschedule_policy=ReschedulePolicy(
                    attempts=2,
                    interval=10 * MINUTE,
                    delay=5 * SECOND,
                    delay_function="constant",
                ),
                networks=[
                    NetworkResource(
                        mode="host",
                        dynamic_ports=[Port(label="http"), Port(label="admin")],
                    )
                ],
                tasks=[_web_task("raw_exec", {"command": "/bin/date"}, 500, 256)],
            )
        ],
        meta={"owner": "armon"},
        status="pending",
        version=0,
        create_index=42,
        modify_index=99,
        job_modify_index=99,
    )
    return canonicalize(msgspec.structs.replace(job, **overrides))


def mock_batch_job(**overrides: Any) -> Job:
    """A batch job: group "web" of count 10, one mock_driver task (100 MHz, 100 MB), no ports."""
    job_id = overrides.pop("id", None) or f"mock-batch-{_id()}"
    job = Job(
        id=job_id,
        name="batch-job",
        type="batch",
        priority=50,
        datacenters=["dc1"],
        task_groups=[
            TaskGroup(
                name="web",
                count=10,
                ephemeral_disk=EphemeralDisk(size_mb=150),
                tasks=[_web_task("mock_driver", {"run_for": "500ms"}, 100, 100)],
            )
        ],
        status="pending",
        create_index=43,
        modify_index=99,
        job_modify_index=99,
    )
    return canonicalize(msgspec.structs.replace(job, **overrides))


def _resources_for(tg: TaskGroup) -> AllocatedResources:
    return AllocatedResources(
        tasks={
            t.name: AllocatedTaskResources(
                cpu=AllocatedCpuResources(cpu_shares=t.resources.cpu),
                memory=AllocatedMemoryResources(memory_mb=t.resources.memory_mb),
            )
            for t in tg.tasks
        },
        shared=AllocatedSharedResources(disk_mb=tg.ephemeral_disk.size_mb),
    )


def mock_alloc(
    job: Job | None = None, node: Node | None = None, *, index: int = 0, **overrides: Any
) -> Allocation:
    """A running-desired, pending alloc ``<job>.<group>[index]`` of the job's first group on
    ``node``, holding the group's cpu, memory and disk (no ports)."""
    job = job if job is not None else mock_job()
    group = overrides.pop("task_group", None) or job.task_groups[0].name
    tg = job.lookup_task_group(group)
    alloc = Allocation(
        id=_id(),
        namespace=job.namespace,
        eval_id=_id(),
        name=f"{job.id}.{group}[{index}]",
        node_id=node.id if node else _id(),
        node_name=node.name if node else "",
        job_id=job.id,
        job=job,
        task_group=group,
        allocated_resources=_resources_for(tg) if tg else AllocatedResources(),
        desired_status="run",
        client_status="pending",
    )
    return msgspec.structs.replace(alloc, **overrides)


def mock_eval(job: Job | None = None, **overrides: Any) -> Evaluation:
    """A pending job-register evaluation for ``job`` (its type, priority and namespace)."""
    job = job if job is not None else mock_job()
    ev = Evaluation(
        id=_id(),
        namespace=job.namespace,
        priority=job.priority,
        type=job.type,
        triggered_by="job-register",
        job_id=job.id,
        job_modify_index=job.job_modify_index,
        status="pending",
    )
    return msgspec.structs.replace(ev, **overrides)
