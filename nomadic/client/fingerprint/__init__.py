"""Fingerprinting: what this node is (attributes, resources, drivers), assembled into a Node.

The host fingerprinters live in :mod:`.host`; drivers fingerprint themselves through the
TaskDriver API. The computed node class hashes everything the scheduler can filter on
except ``unique.*`` values, so nodes that differ only in those share feasibility results.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence

from nomadic.plugin import Fingerprint, TaskDriver
from nomadic.structs import (
    DriverInfo,
    NetworkResource,
    Node,
    NodeCpuResources,
    NodeDeviceResource,
    NodeDiskResources,
    NodeMemoryResources,
    NodeReservedResources,
    NodeResources,
    to_builtins,
)
from nomadic.structs.node import NodeReservedCpuResources, NodeReservedNetworkResources

from ..config import ClientConfig
from . import host
from .devices import fingerprint_devices

__all__ = [
    "computed_class",
    "driver_infos",
    "fingerprint_devices",
    "fingerprint_host",
    "fingerprint_node",
]

log = logging.getLogger("nomadic.client.fingerprint")

MB = 1024 * 1024


def fingerprint_host(config: ClientConfig) -> dict[str, str]:
    attrs: dict[str, str] = {}
    attrs.update(host.cpu())
    attrs.update(host.memory())
    attrs.update(host.storage(config.alloc_dir))
    attrs.update(host.host())
    attrs.update(host.network(config.advertise_addr))
    attrs.update(host.nomad(config.region, config.http_addr))
    if config.cpu_total_compute:
        attrs["cpu.totalcompute"] = str(config.cpu_total_compute)
    return attrs


def driver_infos(
    drivers: Mapping[str, TaskDriver], undetected: Mapping[str, str]
) -> dict[str, DriverInfo]:
    """Each driver's fingerprint as Node.Drivers; a driver that raises is undetected."""
    now = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
    infos: dict[str, DriverInfo] = {}
    for name, error in undetected.items():
        infos[name] = DriverInfo(health_description=error, update_time=now)
    for name, driver in drivers.items():
        try:
            fp = driver.fingerprint()
        except Exception as exc:  # a third-party driver must not break the client
            log.error("driver %s fingerprint failed: %s", name, exc)
            fp = Fingerprint(health_description=f"fingerprint failed: {exc}")
        infos[name] = DriverInfo(
            attributes=dict(fp.attributes),
            detected=fp.detected,
            healthy=fp.healthy,
            health_description=fp.health_description,
            update_time=now,
        )
    return infos


def fingerprint_node(
    config: ClientConfig,
    node_id: str,
    secret_id: str,
    host_attrs: Mapping[str, str],
    drivers: Mapping[str, DriverInfo],
    devices: Sequence[NodeDeviceResource] = (),
) -> Node:
    attrs = dict(host_attrs)
    for info in drivers.values():
        if info.detected:
            attrs.update(info.attributes)
    node = Node(
        id=node_id,
        secret_id=secret_id,
        datacenter=config.datacenter,
        name=config.node_name,
        http_addr=config.http_addr,
        attributes=attrs,
        node_resources=_resources(config, attrs),
        reserved_resources=NodeReservedResources(
            cpu=NodeReservedCpuResources(cpu_shares=config.reserved_cpu),
            memory=NodeMemoryResources(memory_mb=config.reserved_memory_mb),
            disk=NodeDiskResources(disk_mb=config.reserved_disk_mb),
            networks=NodeReservedNetworkResources(reserved_host_ports=config.reserved_ports),
        ),
        meta=dict(config.meta),
        node_class=config.node_class,
        node_pool=config.node_pool,
        drivers=dict(drivers),
        host_volumes=dict(config.host_volumes),
    )
    node.node_resources.devices = list(devices)
    node.computed_class = computed_class(node)
    return node


def _resources(config: ClientConfig, attrs: Mapping[str, str]) -> NodeResources:
    memory_mb = config.memory_total_mb or int(attrs.get("memory.totalbytes", "0")) // MB
    ip = config.advertise_addr
    return NodeResources(
        cpu=NodeCpuResources(
            cpu_shares=int(attrs.get("cpu.totalcompute", "0")),
            total_cpu_cores=int(attrs.get("cpu.numcores", "0")),
            reservable_cpu_cores=list(range(int(attrs.get("cpu.numcores", "0")))),
        ),
        memory=NodeMemoryResources(memory_mb=memory_mb),
        disk=NodeDiskResources(disk_mb=int(attrs.get("unique.storage.bytesfree", "0")) // MB),
        networks=[
            NetworkResource(
                mode="host",
                device="lo" if ip.startswith("127.") else "",
                ip=ip,
                cidr=f"{ip}/32" if ":" not in ip else f"{ip}/128",
            )
        ],
    )


def computed_class(node: Node) -> str:
    """Nomad's ``v1:<hash>`` over datacenter, class, pool, attributes, meta and drivers,
    leaving out ``unique.*`` keys."""
    material: dict[str, object] = {
        "datacenter": node.datacenter,
        "node_class": node.node_class,
        "node_pool": node.node_pool,
        "attributes": {k: v for k, v in node.attributes.items() if not _unique(k)},
        "meta": {k: v for k, v in node.meta.items() if not _unique(k)},
        "drivers": sorted(n for n, d in node.drivers.items() if d.detected and d.healthy),
    }
    if node.node_resources.devices:  # nodes without devices keep the classes they had
        material["devices"] = sorted(
            [g.id_tuple(), json.dumps(to_builtins(g.attributes), sort_keys=True)]
            for g in node.node_resources.devices
        )
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).digest()
    return f"v1:{int.from_bytes(digest[:8], 'big')}"


def _unique(key: str) -> bool:
    return key.startswith("unique.")
