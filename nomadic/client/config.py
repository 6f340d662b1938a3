"""ClientConfig: what the agent tells the client role (Nomad's ``client {}`` block and more)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nomadic.structs import ClientHostVolumeConfig
from nomadic.structs.consts import DEFAULT_DATACENTER, DEFAULT_NODE_POOL, DEFAULT_REGION, SECOND

from .taskenv import DEFAULT_DENYLIST

__all__ = ["ClientConfig"]


@dataclass
class ClientConfig:
    data_dir: str
    node_name: str = ""
    datacenter: str = DEFAULT_DATACENTER
    region: str = DEFAULT_REGION
    node_class: str = ""
    node_pool: str = DEFAULT_NODE_POOL
    meta: dict[str, str] = field(default_factory=dict)
    #: ``client { host_volume "<name>" { path read_only } }``
    host_volumes: dict[str, ClientHostVolumeConfig] = field(default_factory=dict)
    servers: list[str] = field(default_factory=list)
    #: ``plugin "<name>" { config { ... } }`` blocks, by driver name.
    plugin_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    advertise_addr: str = "127.0.0.1"
    http_addr: str = ""
    dev_mode: bool = False
    #: ``client { reserved { cpu memory disk reserved_ports } }``
    reserved_cpu: int = 0
    reserved_memory_mb: int = 0
    reserved_disk_mb: int = 0
    reserved_ports: str = ""
    #: ``cpu_total_compute`` / ``memory_total_mb`` overrides; 0 = fingerprint.
    cpu_total_compute: int = 0
    memory_total_mb: int = 0
    max_kill_timeout: int = 30 * SECOND
    #: ``client { options {} }``
    options: dict[str, str] = field(default_factory=dict)
    env_denylist: frozenset[str] = DEFAULT_DENYLIST
    #: Kill running tasks when the client shuts down. ``None``: only in dev mode, so
    #: ``nomadic agent -dev`` leaves no orphans while a real client keeps its tasks running.
    kill_tasks_on_shutdown: bool | None = None
    #: First heartbeat is sent at once in dev mode, else staggered up to this many seconds.
    first_heartbeat_stagger: float = 10.0

    @property
    def alloc_dir(self) -> Path:
        return Path(self.data_dir) / "alloc"

    @property
    def state_dir(self) -> Path:
        return Path(self.data_dir)

    @property
    def kill_on_shutdown(self) -> bool:
        if self.kill_tasks_on_shutdown is None:
            return self.dev_mode
        return self.kill_tasks_on_shutdown
