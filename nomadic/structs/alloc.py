"""Allocation: one task group placed on one node, with what the client reports back."""

from __future__ import annotations

import msgspec

from .codec import Base
from .consts import (
    ALLOC_CLIENT_PENDING,
    ALLOC_CLIENT_TERMINAL,
    ALLOC_DESIRED_EVICT,
    ALLOC_DESIRED_RUN,
    ALLOC_DESIRED_STOP,
    DEFAULT_NAMESPACE,
    TASK_STATE_PENDING,
)
from .deployment import AllocDeploymentStatus
from .job import Job, NetworkResource


class AllocatedCpuResources(Base):
    cpu_shares: int = msgspec.field(default=0, name="CpuShares")
    reserved_cores: list[int] = msgspec.field(default_factory=list)


class AllocatedMemoryResources(Base):
    memory_mb: int = 0
    memory_max_mb: int = 0


class AllocatedDeviceResource(Base):
    """Device instances given to one task: which group, and the instance IDs."""

    vendor: str = ""
    type: str = ""
    name: str = ""
    device_ids: list[str] = msgspec.field(default_factory=list)


class AllocatedTaskResources(Base):
    cpu: AllocatedCpuResources = msgspec.field(default_factory=AllocatedCpuResources, name="Cpu")
    memory: AllocatedMemoryResources = msgspec.field(default_factory=AllocatedMemoryResources)
    networks: list[NetworkResource] = msgspec.field(default_factory=list)
    devices: list[AllocatedDeviceResource] = msgspec.field(default_factory=list)


class AllocatedPortMapping(Base):
    label: str = ""
    value: int = 0
    to: int = 0
    host_ip: str = ""


class AllocatedSharedResources(Base):
    disk_mb: int = 0
    networks: list[NetworkResource] = msgspec.field(default_factory=list)
    ports: list[AllocatedPortMapping] = msgspec.field(default_factory=list)


class AllocatedResources(Base):
    tasks: dict[str, AllocatedTaskResources] = msgspec.field(default_factory=dict)
    shared: AllocatedSharedResources = msgspec.field(default_factory=AllocatedSharedResources)

    def comparable(self) -> tuple[int, int, int]:
        """(cpu MHz, memory MB, disk MB) this allocation holds on its node."""
        cpu = sum(t.cpu.cpu_shares for t in self.tasks.values())
        mem = sum(t.memory.memory_mb for t in self.tasks.values())
        return cpu, mem, self.shared.disk_mb

    def device_ids(self) -> list[tuple[str, str]]:
        """(device group "vendor/type/name", instance ID) of every device instance held."""
        return [
            (f"{d.vendor}/{d.type}/{d.name}", i)
            for t in self.tasks.values()
            for d in t.devices
            for i in d.device_ids
        ]

    def ports(self) -> list[int]:
        used = [p.value for p in self.shared.ports]
        for net in self.shared.networks:
            used += [p.value for p in net.reserved_ports + net.dynamic_ports]
        for task in self.tasks.values():
            for net in task.networks:
                used += [p.value for p in net.reserved_ports + net.dynamic_ports]
        return used


class TaskEvent(Base):
    type: str = ""
    time: int = 0
    message: str = ""
    display_message: str = ""
    details: dict[str, str] = msgspec.field(default_factory=dict)
    fails_task: bool = False
    restart_reason: str = ""
    setup_error: str = ""
    download_error: str = ""
    driver_error: str = ""
    exit_code: int = 0
    signal: int = 0
    kill_timeout: int = 0
    kill_error: str = ""
    kill_reason: str = ""
    start_delay: int = 0
    driver_message: str = ""
    task_signal: str = ""
    task_signal_reason: str = ""


class TaskState(Base):
    state: str = TASK_STATE_PENDING
    failed: bool = False
    restarts: int = 0
    last_restart: str = ""
    started_at: str = ""
    finished_at: str = ""
    events: list[TaskEvent] = msgspec.field(default_factory=list)


class NodeScoreMeta(Base):
    node_id: str = ""
    scores: dict[str, float] = msgspec.field(default_factory=dict)
    norm_score: float = 0.0


class AllocMetric(Base):
    """Why a placement went where it did, or why it failed: the source of `job status` text."""

    nodes_evaluated: int = 0
    nodes_filtered: int = 0
    nodes_in_pool: int = 0
    nodes_available: dict[str, int] = msgspec.field(default_factory=dict)
    class_filtered: dict[str, int] = msgspec.field(default_factory=dict)
    constraint_filtered: dict[str, int] = msgspec.field(default_factory=dict)
    nodes_exhausted: int = 0
    class_exhausted: dict[str, int] = msgspec.field(default_factory=dict)
    dimension_exhausted: dict[str, int] = msgspec.field(default_factory=dict)
    quota_exhausted: list[str] = msgspec.field(default_factory=list)
    resources_exhausted: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    score_meta_data: list[NodeScoreMeta] = msgspec.field(default_factory=list)
    allocation_time: int = 0
    coalesced_failures: int = 0


class RescheduleEvent(Base):
    reschedule_time: int = 0
    prev_alloc_id: str = ""
    prev_node_id: str = ""
    delay: int = 0


class RescheduleTracker(Base):
    events: list[RescheduleEvent] = msgspec.field(default_factory=list)


class DesiredTransition(Base):
    migrate: bool | None = None
    reschedule: bool | None = None
    force_reschedule: bool | None = None


class Allocation(Base):
    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    eval_id: str = ""
    name: str = ""
    node_id: str = ""
    node_name: str = ""
    job_id: str = ""
    job: Job | None = None
    task_group: str = ""
    allocated_resources: AllocatedResources = msgspec.field(default_factory=AllocatedResources)
    metrics: AllocMetric | None = None
    desired_status: str = ALLOC_DESIRED_RUN
    desired_description: str = ""
    desired_transition: DesiredTransition = msgspec.field(default_factory=DesiredTransition)
    client_status: str = ALLOC_CLIENT_PENDING
    client_description: str = ""
    task_states: dict[str, TaskState] = msgspec.field(default_factory=dict)
    previous_allocation: str = ""
    next_allocation: str = ""
    reschedule_tracker: RescheduleTracker | None = None
    followup_eval_id: str = ""
    preempted_allocations: list[str] = msgspec.field(default_factory=list)
    preempted_by_allocation: str = ""
    deployment_id: str = ""
    deployment_status: AllocDeploymentStatus | None = None
    create_index: int = 0
    modify_index: int = 0
    alloc_modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0

    def server_terminal(self) -> bool:
        return self.desired_status in (ALLOC_DESIRED_STOP, ALLOC_DESIRED_EVICT)

    def client_terminal(self) -> bool:
        return self.client_status in ALLOC_CLIENT_TERMINAL

    def terminal(self) -> bool:
        return self.server_terminal() or self.client_terminal()

    def index(self) -> int:
        """The ``N`` of ``job.group[N]``."""
        try:
            return int(self.name[self.name.rindex("[") + 1 : -1])
        except ValueError:
            return 0

    def stub(self) -> AllocListStub:
        return AllocListStub(
            id=self.id,
            eval_id=self.eval_id,
            name=self.name,
            namespace=self.namespace,
            node_id=self.node_id,
            node_name=self.node_name,
            job_id=self.job_id,
            job_type=self.job.type if self.job else "",
            job_version=self.job.version if self.job else 0,
            task_group=self.task_group,
            desired_status=self.desired_status,
            desired_description=self.desired_description,
            client_status=self.client_status,
            client_description=self.client_description,
            desired_transition=self.desired_transition,
            task_states=self.task_states,
            followup_eval_id=self.followup_eval_id,
            preempted_allocations=self.preempted_allocations,
            preempted_by_allocation=self.preempted_by_allocation,
            deployment_status=self.deployment_status,
            previous_allocation=self.previous_allocation,
            next_allocation=self.next_allocation,
            create_index=self.create_index,
            modify_index=self.modify_index,
            create_time=self.create_time,
            modify_time=self.modify_time,
        )


class AllocListStub(Base):
    id: str
    eval_id: str = ""
    name: str = ""
    namespace: str = DEFAULT_NAMESPACE
    node_id: str = ""
    node_name: str = ""
    job_id: str = ""
    job_type: str = ""
    job_version: int = 0
    task_group: str = ""
    desired_status: str = ""
    desired_description: str = ""
    client_status: str = ""
    client_description: str = ""
    desired_transition: DesiredTransition = msgspec.field(default_factory=DesiredTransition)
    task_states: dict[str, TaskState] = msgspec.field(default_factory=dict)
    followup_eval_id: str = ""
    previous_allocation: str = ""
    next_allocation: str = ""
    preempted_allocations: list[str] = msgspec.field(default_factory=list)
    preempted_by_allocation: str = ""
    deployment_status: AllocDeploymentStatus | None = None
    create_index: int = 0
    modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0


class AllocUpdate(Base):
    """What a client reports about one allocation (Node.UpdateAlloc)."""

    id: str
    client_status: str
    client_description: str = ""
    task_states: dict[str, TaskState] = msgspec.field(default_factory=dict)
    modify_time: int = 0
    # the client's health verdict for a deployment (set once; None: not decided)
    deployment_status: AllocDeploymentStatus | None = None
