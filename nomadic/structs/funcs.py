"""Resource arithmetic shared by the scheduler and the plan applier (Nomad's ``structs/funcs.go``).

- :func:`allocs_fit`: do these allocations fit on this node? (cpu, memory, disk, ports,
  device instances)
- :func:`score_fit_binpack` / :func:`score_fit_spread`: how good a fit a node is, in [0, 18]
- :func:`used_ports` / :func:`parse_port_ranges`: which host ports a set of allocations holds
- :func:`compute_node_class`: the hash that groups nodes which are identical for feasibility
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable

import msgspec

from .alloc import Allocation
from .node import Node

__all__ = [
    "BINPACK_MAX_FIT_SCORE",
    "NodeAllocsUsage",
    "alloc_suffix",
    "allocs_fit",
    "compute_free_percentage",
    "compute_node_class",
    "exhausted_dimension",
    "node_available",
    "parse_port_ranges",
    "score_fit_binpack",
    "score_fit_spread",
    "used_ports",
]

# ScoreFitBinPack and ScoreFitSpread return at most this; rank.py divides by it.
BINPACK_MAX_FIT_SCORE = 18.0

# The dimension names Nomad reports in AllocMetric.DimensionExhausted.
DIMENSION_CPU = "cpu"
DIMENSION_MEMORY = "memory"
DIMENSION_DISK = "disk"
DIMENSION_PORT_COLLISION = "network: port collision"
DIMENSION_DEVICES = "device oversubscribed"


class NodeAllocsUsage(msgspec.Struct, frozen=True, array_like=True):
    """What a node's non-terminal allocations hold together, kept by the state store as an
    index so fit checks need not walk every allocation on the node. ``with_ports`` counts the
    allocations holding host ports (their ports are not summed here)."""

    cpu: int = 0
    mem: int = 0
    disk: int = 0
    count: int = 0
    with_ports: int = 0

    def plus(self, alloc: Allocation, sign: int = 1) -> NodeAllocsUsage:
        c, m, d = alloc.allocated_resources.comparable()
        p = 1 if alloc.allocated_resources.ports() else 0
        return NodeAllocsUsage(
            self.cpu + sign * c,
            self.mem + sign * m,
            self.disk + sign * d,
            self.count + sign,
            self.with_ports + sign * p,
        )


def node_available(node: Node) -> tuple[int, int, int]:
    """(cpu MHz, memory MB, disk MB) the node offers: its resources minus reserved ones."""
    res, rsv = node.node_resources, node.reserved_resources
    return (
        res.cpu.cpu_shares - rsv.cpu.cpu_shares,
        res.memory.memory_mb - rsv.memory.memory_mb,
        res.disk.disk_mb - rsv.disk.disk_mb,
    )


def parse_port_ranges(spec: str) -> set[int]:
    """``"22,80,8000-8002"`` -> {22, 80, 8000, 8001, 8002}; blanks ignored, bad parts raise."""
    ports: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo_s, hi_s = part.split("-", 1)
            lo, hi = int(lo_s), int(hi_s)
            if lo > hi:
                raise ValueError(f"invalid port range {part!r}: start is after end")
            ports.update(range(lo, hi + 1))
        else:
            ports.add(int(part))
    return ports


def _node_reserved_ports(node: Node) -> set[int]:
    return set(_reserved_ports(node.reserved_resources.networks.reserved_host_ports))


@functools.lru_cache(maxsize=256)
def _reserved_ports(spec: str) -> frozenset[int]:
    """Parsed once per distinct spec: every node of a fleet usually shares one."""
    try:
        return frozenset(parse_port_ranges(spec))
    except ValueError:
        return frozenset()


def used_ports(node: Node, allocs: Iterable[Allocation]) -> tuple[set[int], str]:
    """Host ports held on ``node`` by its reservations and the non-terminal ``allocs``.

    Returns (ports, reason); ``reason`` is empty unless two holders claim the same port, in
    which case it names the port (as Nomad's NetworkIndex does).
    """
    used = _node_reserved_ports(node)
    for alloc in allocs:
        if alloc.client_terminal():
            continue
        # an alloc lists a group port both in Shared.Ports and Shared.Networks: count it once
        for port in sorted(set(alloc.allocated_resources.ports())):
            if port <= 0:
                continue
            if port in used:
                return used, f"port {port} already in use"
            used.add(port)
    return used, ""


def allocs_fit(node: Node, allocs: list[Allocation]) -> tuple[bool, str]:
    """Do ``allocs`` (everything proposed for the node) fit on ``node``?

    Returns (True, "") or (False, dimension) where dimension is what ran out, in Nomad's
    words: "cpu", "memory", "disk" or "network: port collision". Allocations the client
    reports terminal hold no resources.
    """
    live = [a for a in allocs if not a.client_terminal()]
    dimension = exhausted_dimension(node, live)
    if dimension:
        return False, dimension
    _, collision = used_ports(node, live)
    if collision:
        return False, DIMENSION_PORT_COLLISION
    if not _devices_fit(live):
        return False, DIMENSION_DEVICES
    return True, ""


def exhausted_dimension(
    node: Node, allocs: list[Allocation], base: tuple[int, int, int] = (0, 0, 0)
) -> str:
    """The first of cpu, memory, disk that ``base`` plus ``allocs`` (all live) overrun on
    ``node``, in allocs_fit's order; "" when they fit."""
    cpu, mem, disk = base
    for alloc in allocs:
        c, m, d = alloc.allocated_resources.comparable()
        cpu, mem, disk = cpu + c, mem + m, disk + d
    avail_cpu, avail_mem, avail_disk = node_available(node)
    if cpu > avail_cpu:
        return DIMENSION_CPU
    if mem > avail_mem:
        return DIMENSION_MEMORY
    if disk > avail_disk:
        return DIMENSION_DISK
    return ""


def _devices_fit(live: list[Allocation]) -> bool:
    """No device instance is held by two allocations (instances the node no longer reports
    are ignored, as Nomad's DeviceAccounter does)."""
    held = [d for a in live for d in a.allocated_resources.device_ids()]
    return len(set(held)) == len(held)


def compute_free_percentage(node: Node, util: tuple[int, int, int]) -> tuple[float, float]:
    """(free cpu fraction, free memory fraction) once ``util`` (cpu, mem, disk) is placed."""
    res, rsv = node.node_resources, node.reserved_resources
    node_cpu = float(res.cpu.cpu_shares - rsv.cpu.cpu_shares)
    node_mem = float(res.memory.memory_mb - rsv.memory.memory_mb)
    free_cpu = 1.0 - (util[0] / node_cpu) if node_cpu > 0 else 0.0
    free_mem = 1.0 - (util[1] / node_mem) if node_mem > 0 else 0.0
    return free_cpu, free_mem


def score_fit_binpack(node: Node, util: tuple[int, int, int]) -> float:
    """BestFit v3: 20 - (10^freeCpu + 10^freeMem), clamped to [0, 18]; a full node scores 18."""
    free_cpu, free_mem = compute_free_percentage(node, util)
    score = 20.0 - (math.pow(10.0, free_cpu) + math.pow(10.0, free_mem))
    return min(max(score, 0.0), BINPACK_MAX_FIT_SCORE)


def score_fit_spread(node: Node, util: tuple[int, int, int]) -> float:
    """Worst fit: (10^freeCpu + 10^freeMem) - 2, clamped to [0, 18]; an empty node scores 18."""
    free_cpu, free_mem = compute_free_percentage(node, util)
    score = (math.pow(10.0, free_cpu) + math.pow(10.0, free_mem)) - 2.0
    return min(max(score, 0.0), BINPACK_MAX_FIT_SCORE)


def alloc_suffix(alloc_name: str) -> str:
    """``web.api[3]`` -> ``[3]`` (Nomad's AllocSuffix; per_alloc volume sources end in it)."""
    start = alloc_name.rfind("[")
    return alloc_name[start:] if start >= 0 and alloc_name.endswith("]") else ""


def compute_node_class(node: Node) -> str:
    """Hash of everything feasibility depends on except ``unique.*`` keys (Nomad's ComputeClass).

    Nodes with the same class pass or fail the same constraints, so the scheduler checks a
    class once per evaluation.
    """
    payload: dict[str, object] = {
        "datacenter": node.datacenter,
        "class": node.node_class,
        "pool": node.node_pool,
        "attributes": {k: v for k, v in node.attributes.items() if not k.startswith("unique.")},
        "meta": {k: v for k, v in node.meta.items() if not k.startswith("unique.")},
        "drivers": {
            name: [info.detected, info.healthy] for name, info in sorted(node.drivers.items())
        },
    }
    if node.host_volumes:  # only then, so classes of nodes without volumes stay put
        payload["host_volumes"] = sorted([v.name, v.read_only] for v in node.host_volumes.values())
    if node.node_resources.devices:  # only then, so classes of nodes without devices stay put
        payload["devices"] = sorted(
            [g.id_tuple(), json.dumps(msgspec.to_builtins(g.attributes), sort_keys=True)]
            for g in node.node_resources.devices
        )
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"v1:{int(digest[:16], 16)}"
