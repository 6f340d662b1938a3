"""The job spec's integration and hint blocks, in Nomad's API shape.

Volumes, scaling policies, disconnect strategy, workload identity, Vault and Consul settings,
CSI plugins, multiregion and UI hints: what a Nomad job file may carry beyond placement and
tasks. They are kept faithfully (so ``job inspect`` and ``-output`` show them, and a job
round-trips); which ones nomadic acts on is said in ``docs/jobspec.md``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .codec import Base


class VolumeMountOptions(Base):
    fs_type: str = msgspec.field(default="", name="FSType")
    mount_flags: list[str] = msgspec.field(default_factory=list)


class VolumeRequest(Base):
    """A group's ``volume "<name>"`` block (``TaskGroup.Volumes`` maps name to it)."""

    name: str = ""
    type: str = ""
    source: str = ""
    read_only: bool = False
    sticky: bool = False
    access_mode: str = ""
    attachment_mode: str = ""
    mount_options: VolumeMountOptions | None = None
    per_alloc: bool = False


class VolumeMount(Base):
    volume: str = ""
    destination: str = ""
    read_only: bool = False
    propagation_mode: str = ""
    selinux_label: str = msgspec.field(default="", name="SELinuxLabel")


class ScalingPolicy(Base):
    """``scaling`` in a group (horizontal) or a task (``cpu``/``mem``, vertical)."""

    id: str = ""
    namespace: str = ""
    type: str = ""
    target: dict[str, str] = msgspec.field(default_factory=dict)
    min: int | None = None
    max: int | None = None
    policy: dict[str, Any] = msgspec.field(default_factory=dict)
    enabled: bool | None = None


class DisconnectStrategy(Base):
    lost_after: int = 0
    replace: bool | None = None
    reconcile: str = ""
    stop_on_client_after: int | None = None


class WorkloadIdentity(Base):
    name: str = ""
    audience: list[str] = msgspec.field(default_factory=list)
    change_mode: str = ""
    change_signal: str = ""
    env: bool = False
    file: bool = False
    filepath: str = ""
    service_name: str = ""
    ttl: int = msgspec.field(default=0, name="TTL")
    extra_claims: dict[str, str] = msgspec.field(default_factory=dict)


class Vault(Base):
    policies: list[str] = msgspec.field(default_factory=list)
    role: str = ""
    namespace: str = ""
    cluster: str = ""
    env: bool | None = None
    disable_file: bool = False
    change_mode: str = ""
    change_signal: str = ""
    allow_token_expiration: bool = False


class Consul(Base):
    namespace: str = ""
    cluster: str = ""
    partition: str = ""


class CSIPluginConfig(Base):
    id: str = ""
    type: str = ""
    mount_dir: str = ""
    stage_publish_base_dir: str = ""
    health_timeout: int = 0


class MultiregionStrategy(Base):
    max_parallel: int = 0
    on_failure: str = ""


class MultiregionRegion(Base):
    name: str = ""
    count: int = 0
    datacenters: list[str] = msgspec.field(default_factory=list)
    node_pool: str = ""
    meta: dict[str, str] = msgspec.field(default_factory=dict)


class Multiregion(Base):
    strategy: MultiregionStrategy | None = None
    regions: list[MultiregionRegion] = msgspec.field(default_factory=list)


class JobUILink(Base):
    label: str = ""
    url: str = ""


class JobUIConfig(Base):
    description: str = ""
    links: list[JobUILink] = msgspec.field(default_factory=list)


class WaitConfig(Base):
    min: int | None = None
    max: int | None = None


class ChangeScript(Base):
    command: str = ""
    args: list[str] = msgspec.field(default_factory=list)
    timeout: int = 5_000_000_000
    fail_on_error: bool = False


class CheckRestart(Base):
    limit: int = 0
    grace: int = 1_000_000_000
    ignore_warnings: bool = False


class ServiceWeights(Base):
    passing: int = 1
    warning: int = 1


class DNSConfig(Base):
    servers: list[str] = msgspec.field(default_factory=list)
    searches: list[str] = msgspec.field(default_factory=list)
    options: list[str] = msgspec.field(default_factory=list)


class CNIConfig(Base):
    args: dict[str, str] = msgspec.field(default_factory=dict)
