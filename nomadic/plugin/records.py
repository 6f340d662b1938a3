"""The records a task driver exchanges with the client, in Nomad's shapes (``plugins/drivers``).

They are msgspec Structs so a task handle can be persisted and sent over the wire unchanged;
``TaskResourceUsage`` serialises to exactly Nomad's ``TaskResourceUsage`` JSON.
"""

from __future__ import annotations

from typing import Any

import msgspec

from nomadic.structs.codec import Base

__all__ = [
    "Capabilities",
    "CpuStats",
    "ExecResult",
    "ExitResult",
    "Fingerprint",
    "MemoryStats",
    "ResourceUsage",
    "TaskConfig",
    "TaskHandle",
    "TaskResourceUsage",
    "TaskStatus",
]

FS_ISOLATION_NONE = "none"
FS_ISOLATION_CHROOT = "chroot"
FS_ISOLATION_IMAGE = "image"

TASK_STATE_UNKNOWN = "unknown"
TASK_STATE_RUNNING = "running"
TASK_STATE_EXITED = "exited"


class Capabilities(Base):
    """What a driver can do (Nomad's ``drivers.Capabilities``)."""

    send_signals: bool = False
    exec: bool = False
    fs_isolation: str = FS_ISOLATION_NONE
    net_isolation_modes: list[str] = msgspec.field(default_factory=lambda: ["host"])
    must_initiate_network: bool = False
    mount_configs: str = "none"
    disable_log_collection: bool = False


class Fingerprint(Base):
    """A driver's health and the node attributes it contributes (``driver.<name>``...)."""

    detected: bool = False
    healthy: bool = False
    health_description: str = ""
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class MountConfig(Base):
    """A host path to mount into the task (Nomad's ``drivers.MountConfig``): host volumes."""

    task_path: str
    host_path: str
    readonly: bool = False
    propagation_mode: str = "private"


class TaskConfig(Base):
    """Everything a driver needs to start one task (Nomad's ``drivers.TaskConfig``)."""

    id: str
    name: str
    alloc_id: str = ""
    job_id: str = ""
    job_name: str = ""
    task_group_name: str = ""
    namespace: str = ""
    node_id: str = ""
    node_name: str = ""
    env: dict[str, str] = msgspec.field(default_factory=dict)
    cpu_shares: int = 0
    memory_mb: int = 0
    memory_max_mb: int = 0
    alloc_dir: str = ""
    task_dir: str = ""
    stdout_path: str = ""
    stderr_path: str = ""
    user: str = ""
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    #: host volumes to mount; only given to drivers whose ``mount_configs`` is "all"
    mounts: list[MountConfig] = msgspec.field(default_factory=list)


class TaskHandle(Base):
    """What a driver needs to find a task again: opaque ``driver_state`` plus the config."""

    driver: str
    task_id: str
    config: TaskConfig
    driver_state: dict[str, Any] = msgspec.field(default_factory=dict)
    version: int = 1


class ExitResult(Base):
    """How a task ended. ``err`` is set when the driver could not tell."""

    exit_code: int = 0
    signal: int = 0
    oom_killed: bool = msgspec.field(default=False, name="OOMKilled")
    err: str = ""

    def successful(self) -> bool:
        return self.exit_code == 0 and self.signal == 0 and not self.err


class TaskStatus(Base):
    """``InspectTask``: what the driver knows about one task right now."""

    id: str
    name: str
    state: str = TASK_STATE_UNKNOWN
    started_at: int = 0  # unix nanoseconds
    completed_at: int = 0
    exit_result: ExitResult | None = None
    driver_attributes: dict[str, str] = msgspec.field(default_factory=dict)


class MemoryStats(Base):
    rss: int = msgspec.field(default=0, name="RSS")
    cache: int = 0
    swap: int = 0
    mapped_file: int = 0
    usage: int = 0
    max_usage: int = 0
    kernel_usage: int = 0
    kernel_max_usage: int = 0
    measured: list[str] = msgspec.field(default_factory=list)


class CpuStats(Base):
    system_mode: float = 0.0
    user_mode: float = 0.0
    total_ticks: float = 0.0
    throttled_periods: int = 0
    throttled_time: int = 0
    percent: float = 0.0
    measured: list[str] = msgspec.field(default_factory=list)


class ResourceUsage(Base):
    memory_stats: MemoryStats = msgspec.field(default_factory=MemoryStats)
    cpu_stats: CpuStats = msgspec.field(default_factory=CpuStats, name="CpuStats")


class TaskResourceUsage(Base):
    """Nomad's ``TaskResourceUsage`` JSON: ``{ResourceUsage, Timestamp, Pids}``."""

    resource_usage: ResourceUsage = msgspec.field(default_factory=ResourceUsage)
    timestamp: int = 0
    pids: dict[str, ResourceUsage] = msgspec.field(default_factory=dict)


class ExecResult(Base):
    """``ExecTask``: output of a command run inside the task's environment."""

    exit_code: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
