"""Node: a client machine as the servers see it (fingerprint, resources, drivers, status)."""

from __future__ import annotations

import msgspec

from .codec import Base
from .consts import (
    DEFAULT_DATACENTER,
    DEFAULT_NODE_POOL,
    MAX_DYNAMIC_PORT,
    MIN_DYNAMIC_PORT,
    NODE_ELIGIBLE,
    NODE_STATUS_INIT,
)
from .job import NetworkResource


class NodeCpuResources(Base):
    cpu_shares: int = msgspec.field(default=0, name="CpuShares")
    total_cpu_cores: int = msgspec.field(default=0, name="TotalCpuCores")
    reservable_cpu_cores: list[int] = msgspec.field(default_factory=list, name="ReservableCpuCores")


class NodeMemoryResources(Base):
    memory_mb: int = 0


class NodeDiskResources(Base):
    disk_mb: int = 0


class Attribute(Base):
    """A typed device attribute (Nomad's ``psstructs.Attribute``): one value and its unit."""

    float_val: float | None = None
    int_val: int | None = None
    string_val: str | None = None
    bool_val: bool | None = None
    unit: str = ""


class NodeDevice(Base):
    """One instance of a device (one GPU)."""

    id: str = msgspec.field(default="", name="ID")
    healthy: bool = True
    health_description: str = ""


class NodeDeviceResource(Base):
    """A device group: identical instances of ``vendor/type/name`` with shared attributes."""

    vendor: str = ""
    type: str = ""
    name: str = ""
    instances: list[NodeDevice] = msgspec.field(default_factory=list)
    attributes: dict[str, Attribute] = msgspec.field(default_factory=dict)

    def id_tuple(self) -> str:
        return f"{self.vendor}/{self.type}/{self.name}"


class NodeResources(Base):
    cpu: NodeCpuResources = msgspec.field(default_factory=NodeCpuResources, name="Cpu")
    memory: NodeMemoryResources = msgspec.field(default_factory=NodeMemoryResources)
    disk: NodeDiskResources = msgspec.field(default_factory=NodeDiskResources)
    networks: list[NetworkResource] = msgspec.field(default_factory=list)
    devices: list[NodeDeviceResource] = msgspec.field(default_factory=list)
    min_dynamic_port: int = MIN_DYNAMIC_PORT
    max_dynamic_port: int = MAX_DYNAMIC_PORT


class NodeReservedCpuResources(Base):
    cpu_shares: int = msgspec.field(default=0, name="CpuShares")


class NodeReservedNetworkResources(Base):
    reserved_host_ports: str = ""


class NodeReservedResources(Base):
    cpu: NodeReservedCpuResources = msgspec.field(
        default_factory=NodeReservedCpuResources, name="Cpu"
    )
    memory: NodeMemoryResources = msgspec.field(default_factory=NodeMemoryResources)
    disk: NodeDiskResources = msgspec.field(default_factory=NodeDiskResources)
    networks: NodeReservedNetworkResources = msgspec.field(
        default_factory=NodeReservedNetworkResources
    )


class DriverInfo(Base):
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    detected: bool = False
    healthy: bool = False
    health_description: str = ""
    update_time: str = ""


class ClientHostVolumeConfig(Base):
    """A host volume a client offers (``client { host_volume "<name>" { path read_only } }``)."""

    name: str = ""
    path: str = ""
    read_only: bool = False


class NodeEvent(Base):
    message: str = ""
    subsystem: str = ""
    details: dict[str, str] = msgspec.field(default_factory=dict)
    timestamp: str = ""
    create_index: int = 0


class DrainSpec(Base):
    """What a user asks for when draining a node (Nomad's ``DrainSpec``)."""

    deadline: int = 0  # ns; 0 = no deadline, < 0 = force (stop everything now)
    ignore_system_jobs: bool = False


class DrainStrategy(Base):
    """A drain in progress. Nomad embeds DrainSpec, so its fields sit at the top level in JSON.

    ``force_deadline`` and ``started_at`` are Unix nanoseconds stamped by the leader; a
    ``force_deadline`` of 0 means the drain waits for migrations however long they take.
    """

    deadline: int = 0
    ignore_system_jobs: bool = False
    force_deadline: int = 0
    started_at: int = 0


class DrainMetadata(Base):
    """How the last drain went (Nomad's ``LastDrain``)."""

    started_at: int = 0
    updated_at: int = 0
    status: str = ""  # "draining", "complete", "canceled"
    meta: dict[str, str] = msgspec.field(default_factory=dict)


class Node(Base):
    id: str = ""
    secret_id: str = ""
    datacenter: str = DEFAULT_DATACENTER
    name: str = ""
    http_addr: str = ""
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    node_resources: NodeResources = msgspec.field(default_factory=NodeResources)
    reserved_resources: NodeReservedResources = msgspec.field(default_factory=NodeReservedResources)
    links: dict[str, str] = msgspec.field(default_factory=dict)
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    node_class: str = ""
    node_pool: str = DEFAULT_NODE_POOL
    computed_class: str = ""
    drivers: dict[str, DriverInfo] = msgspec.field(default_factory=dict)
    host_volumes: dict[str, ClientHostVolumeConfig] = msgspec.field(default_factory=dict)
    status: str = NODE_STATUS_INIT
    status_description: str = ""
    status_updated_at: int = 0
    scheduling_eligibility: str = NODE_ELIGIBLE
    drain: bool = False
    drain_strategy: DrainStrategy | None = None
    last_drain: DrainMetadata | None = None
    events: list[NodeEvent] = msgspec.field(default_factory=list)
    create_index: int = 0
    modify_index: int = 0

    def ready(self) -> bool:
        """Ready, eligible and not draining: can take new allocations (Nomad's Node.Ready)."""
        return (
            self.status == "ready"
            and self.scheduling_eligibility == NODE_ELIGIBLE
            and not self.drain
            and self.drain_strategy is None
        )

    def stub(self) -> NodeListStub:
        return NodeListStub(
            id=self.id,
            datacenter=self.datacenter,
            name=self.name,
            node_class=self.node_class,
            node_pool=self.node_pool,
            version=self.attributes.get("nomad.version", ""),
            drain=self.drain,
            scheduling_eligibility=self.scheduling_eligibility,
            status=self.status,
            status_description=self.status_description,
            drivers=self.drivers,
            address=self.attributes.get("unique.network.ip-address", ""),
            create_index=self.create_index,
            modify_index=self.modify_index,
        )


class NodeListStub(Base):
    id: str
    datacenter: str = ""
    name: str = ""
    node_class: str = ""
    node_pool: str = ""
    version: str = ""
    drain: bool = False
    scheduling_eligibility: str = ""
    status: str = ""
    status_description: str = ""
    drivers: dict[str, DriverInfo] = msgspec.field(default_factory=dict)
    address: str = ""
    create_index: int = 0
    modify_index: int = 0
