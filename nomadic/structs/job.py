"""Job, TaskGroup, Task and the blocks inside them, in Nomad's API shape.

Durations are integer nanoseconds, as on Nomad's wire. Optional policy blocks are ``None``
until :mod:`nomadic.structs.canonicalize` fills Nomad's defaults on the server.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .codec import Base
from .consts import DEFAULT_NAMESPACE, DEFAULT_NODE_POOL, DEFAULT_REGION, JOB_TYPE_SERVICE
from .jobextras import (
    ChangeScript,
    CheckRestart,
    CNIConfig,
    Consul,
    CSIPluginConfig,
    DisconnectStrategy,
    DNSConfig,
    JobUIConfig,
    Multiregion,
    ScalingPolicy,
    ServiceWeights,
    Vault,
    VolumeMount,
    VolumeRequest,
    WaitConfig,
    WorkloadIdentity,
)


class Constraint(Base):
    l_target: str = ""
    r_target: str = ""
    operand: str = "="


class Affinity(Base):
    l_target: str = ""
    r_target: str = ""
    operand: str = "="
    weight: int = 50


class SpreadTarget(Base):
    value: str = ""
    percent: int = 0


class Spread(Base):
    attribute: str = ""
    weight: int = 50
    spread_target: list[SpreadTarget] = msgspec.field(default_factory=list)


class Port(Base):
    label: str = ""
    value: int = 0
    to: int = 0
    host_network: str = ""
    ignore_collision: bool = False


class NetworkResource(Base):
    mode: str = ""
    device: str = ""
    cidr: str = ""
    ip: str = ""
    hostname: str = ""
    mbits: int = 0
    reserved_ports: list[Port] = msgspec.field(default_factory=list)
    dynamic_ports: list[Port] = msgspec.field(default_factory=list)
    dns: DNSConfig | None = None
    cni: CNIConfig | None = msgspec.field(default=None, name="CNI")


class RequestedDevice(Base):
    name: str = ""
    count: int = 1
    constraints: list[Constraint] = msgspec.field(default_factory=list)
    affinities: list[Affinity] = msgspec.field(default_factory=list)


class Resources(Base):
    cpu: int = 100
    cores: int = 0
    memory_mb: int = 300
    memory_max_mb: int = 0
    disk_mb: int = 0
    iops: int = 0
    networks: list[NetworkResource] = msgspec.field(default_factory=list)
    devices: list[RequestedDevice] = msgspec.field(default_factory=list)


class RestartPolicy(Base):
    attempts: int = 0
    interval: int = 0
    delay: int = 0
    mode: str = "fail"
    render_templates: bool = False


class ReschedulePolicy(Base):
    attempts: int = 0
    interval: int = 0
    delay: int = 0
    delay_function: str = ""
    max_delay: int = 0
    unlimited: bool = False


class LogConfig(Base):
    max_files: int = 10
    max_file_size_mb: int = 10
    disabled: bool = False


class EphemeralDisk(Base):
    sticky: bool = False
    size_mb: int = 300
    migrate: bool = False


class UpdateStrategy(Base):
    stagger: int = 0
    max_parallel: int = 1
    health_check: str = "checks"
    min_healthy_time: int = 0
    healthy_deadline: int = 0
    progress_deadline: int = 0
    auto_revert: bool = False
    auto_promote: bool = False
    canary: int = 0


class MigrateStrategy(Base):
    max_parallel: int = 1
    health_check: str = "checks"
    min_healthy_time: int = 0
    healthy_deadline: int = 0


class TaskLifecycle(Base):
    hook: str = ""
    sidecar: bool = False


class DispatchPayloadConfig(Base):
    file: str = ""


class Template(Base):
    source_path: str = ""
    dest_path: str = ""
    embedded_tmpl: str = ""
    change_mode: str = "restart"
    change_signal: str = ""
    splay: int = 5_000_000_000
    perms: str = "0644"
    left_delim: str = "{{"
    right_delim: str = "}}"
    envvars: bool = False
    change_script: ChangeScript | None = None
    uid: int | None = None
    gid: int | None = None
    wait: WaitConfig | None = None
    err_missing_key: bool = False
    once: bool = False
    vault_grace: int = 0


class TaskArtifact(Base):
    getter_source: str = ""
    getter_options: dict[str, str] = msgspec.field(default_factory=dict)
    getter_headers: dict[str, str] = msgspec.field(default_factory=dict)
    relative_dest: str = ""
    getter_mode: str = "any"
    getter_insecure: bool = False
    chown: bool = False


class ServiceCheck(Base):
    name: str = ""
    type: str = ""
    path: str = ""
    port_label: str = ""
    interval: int = 0
    timeout: int = 0
    method: str = ""
    header: dict[str, list[str]] = msgspec.field(default_factory=dict)
    protocol: str = ""
    tls_skip_verify: bool = False
    initial_status: str = ""
    command: str = ""
    args: list[str] = msgspec.field(default_factory=list)
    body: str = ""
    address_mode: str = ""
    success_before_passing: int = 0
    failures_before_critical: int = 0
    failures_before_warning: int = 0
    tls_server_name: str = ""
    grpc_service: str = msgspec.field(default="", name="GRPCService")
    grpc_use_tls: bool = msgspec.field(default=False, name="GRPCUseTLS")
    expose: bool = False
    task_name: str = ""
    on_update: str = ""
    notes: str = ""
    check_restart: CheckRestart | None = None


class Service(Base):
    name: str = ""
    port_label: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    provider: str = ""
    address_mode: str = "auto"
    checks: list[ServiceCheck] = msgspec.field(default_factory=list)
    canary_tags: list[str] = msgspec.field(default_factory=list)
    enable_tag_override: bool = False
    address: str = ""
    task_name: str = ""
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    canary_meta: dict[str, str] = msgspec.field(default_factory=dict)
    tagged_addresses: dict[str, str] = msgspec.field(default_factory=dict)
    on_update: str = ""
    cluster: str = ""
    weights: ServiceWeights | None = None
    check_restart: CheckRestart | None = None
    identity: WorkloadIdentity | None = None


class Task(Base):
    name: str = ""
    driver: str = ""
    user: str = ""
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    env: dict[str, str] = msgspec.field(default_factory=dict)
    services: list[Service] = msgspec.field(default_factory=list)
    constraints: list[Constraint] = msgspec.field(default_factory=list)
    affinities: list[Affinity] = msgspec.field(default_factory=list)
    resources: Resources = msgspec.field(default_factory=Resources)
    restart_policy: RestartPolicy | None = None
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    kill_timeout: int = 0
    log_config: LogConfig = msgspec.field(default_factory=LogConfig)
    artifacts: list[TaskArtifact] = msgspec.field(default_factory=list)
    templates: list[Template] = msgspec.field(default_factory=list)
    dispatch_payload: DispatchPayloadConfig | None = None
    lifecycle: TaskLifecycle | None = None
    leader: bool = False
    shutdown_delay: int = 0
    kill_signal: str = ""
    kind: str = ""
    volume_mounts: list[VolumeMount] = msgspec.field(default_factory=list)
    vault: Vault | None = None
    consul: Consul | None = None
    identity: WorkloadIdentity | None = None
    identities: list[WorkloadIdentity] = msgspec.field(default_factory=list)
    csi_plugin_config: CSIPluginConfig | None = msgspec.field(default=None, name="CSIPluginConfig")
    scaling_policies: list[ScalingPolicy] = msgspec.field(default_factory=list)


class TaskGroup(Base):
    name: str = ""
    count: int = 1
    constraints: list[Constraint] = msgspec.field(default_factory=list)
    affinities: list[Affinity] = msgspec.field(default_factory=list)
    spreads: list[Spread] = msgspec.field(default_factory=list)
    tasks: list[Task] = msgspec.field(default_factory=list)
    restart_policy: RestartPolicy | None = None
    reschedule_policy: ReschedulePolicy | None = None
    ephemeral_disk: EphemeralDisk = msgspec.field(default_factory=EphemeralDisk)
    update: UpdateStrategy | None = None
    migrate: MigrateStrategy | None = None
    networks: list[NetworkResource] = msgspec.field(default_factory=list)
    services: list[Service] = msgspec.field(default_factory=list)
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    shutdown_delay: int | None = None
    stop_after_client_disconnect: int | None = None
    max_client_disconnect: int | None = None
    prevent_reschedule_on_lost: bool = False
    volumes: dict[str, VolumeRequest] = msgspec.field(default_factory=dict)
    scaling: ScalingPolicy | None = None
    disconnect: DisconnectStrategy | None = None
    consul: Consul | None = None

    def lookup_task(self, name: str) -> Task | None:
        return next((t for t in self.tasks if t.name == name), None)


class PeriodicConfig(Base):
    enabled: bool = True
    spec: str = ""
    specs: list[str] = msgspec.field(default_factory=list)
    spec_type: str = "cron"
    prohibit_overlap: bool = False
    time_zone: str = "UTC"


class ParameterizedJobConfig(Base):
    payload: str = "optional"
    meta_required: list[str] = msgspec.field(default_factory=list)
    meta_optional: list[str] = msgspec.field(default_factory=list)


class Job(Base):
    region: str = DEFAULT_REGION
    namespace: str = DEFAULT_NAMESPACE
    id: str = ""
    name: str = ""
    type: str = JOB_TYPE_SERVICE
    priority: int = 50
    all_at_once: bool = False
    datacenters: list[str] = msgspec.field(default_factory=lambda: ["*"])
    node_pool: str = DEFAULT_NODE_POOL
    constraints: list[Constraint] = msgspec.field(default_factory=list)
    affinities: list[Affinity] = msgspec.field(default_factory=list)
    spreads: list[Spread] = msgspec.field(default_factory=list)
    task_groups: list[TaskGroup] = msgspec.field(default_factory=list)
    update: UpdateStrategy | None = None
    periodic: PeriodicConfig | None = None
    parameterized_job: ParameterizedJobConfig | None = None
    reschedule: ReschedulePolicy | None = None
    migrate: MigrateStrategy | None = None
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    multiregion: Multiregion | None = None
    ui: JobUIConfig | None = msgspec.field(default=None, name="UI")
    consul_namespace: str = ""
    vault_namespace: str = ""
    # Set by the server
    stop: bool = False
    parent_id: str = ""
    dispatched: bool = False
    dispatch_idempotency_token: str = ""
    payload: bytes | None = None
    status: str = ""
    status_description: str = ""
    stable: bool = False
    version: int = 0
    submit_time: int = 0
    create_index: int = 0
    modify_index: int = 0
    job_modify_index: int = 0

    def lookup_task_group(self, name: str) -> TaskGroup | None:
        return next((tg for tg in self.task_groups if tg.name == name), None)

    def is_periodic(self) -> bool:
        return self.periodic is not None and self.periodic.enabled

    def is_parameterized(self) -> bool:
        return self.parameterized_job is not None and not self.dispatched

    def is_periodic_active(self) -> bool:
        """Tracked by the leader's periodic dispatcher (Nomad's ``IsPeriodicActive``): an
        enabled schedule on a job that is not stopped and is not a parameterized template."""
        return self.is_periodic() and not self.stop and not self.is_parameterized()


class JobSummaryCounts(Base):
    queued: int = 0
    complete: int = 0
    failed: int = 0
    running: int = 0
    starting: int = 0
    lost: int = 0
    unknown: int = 0


class JobChildrenSummary(Base):
    pending: int = 0
    running: int = 0
    dead: int = 0


class JobSummary(Base):
    job_id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    summary: dict[str, JobSummaryCounts] = msgspec.field(default_factory=dict)
    children: JobChildrenSummary = msgspec.field(default_factory=JobChildrenSummary)
    create_index: int = 0
    modify_index: int = 0


class JobListStub(Base):
    """What ``GET /v1/jobs`` lists for each job."""

    id: str
    parent_id: str = ""
    name: str = ""
    namespace: str = DEFAULT_NAMESPACE
    datacenters: list[str] = msgspec.field(default_factory=list)
    type: str = ""
    priority: int = 0
    periodic: bool = False
    parameterized_job: bool = False
    stop: bool = False
    status: str = ""
    status_description: str = ""
    job_summary: JobSummary | None = None
    create_index: int = 0
    modify_index: int = 0
    job_modify_index: int = 0
    submit_time: int = 0


class PeriodicLaunch(Base):
    """When a periodic job last launched (Nomad's ``periodic_launch`` table), kept in Raft so
    a new leader knows which launches it missed."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    launch: int = 0  # unix nanoseconds
    create_index: int = 0
    modify_index: int = 0
