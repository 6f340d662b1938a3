"""Devices: matching ``device "nvidia/gpu" { count, constraint, affinity }`` requests to the
node's device groups (Nomad's ``DeviceChecker`` in feasible.go and ``deviceAllocator``).

A request names a device as ``type``, ``vendor/type`` or ``vendor/type/model``. Its
constraints and affinities use the device targets ``${device.vendor}``, ``${device.type}``,
``${device.model}`` and ``${device.attr.<name>}``; attributes carry units, so
``${device.attr.memory} >= 10 GiB`` compares 11 GiB and 10240 MiB as quantities.

- :class:`DeviceChecker` (feasibility, cached per computed class like the other group checks):
  the node has, for every request, a matching group with enough healthy instances.
- :class:`DeviceAllocator` (in the bin-packing stage): picks, per request, the matching group
  with the best affinity among those with enough free healthy instances (not held by the
  node's other allocations or the plan), and hands out instance IDs. The device affinity
  score is the matched weight over the total weight, as Nomad's "devices" score.
"""

from __future__ import annotations

import re
from typing import Final

from nomadic.structs import (
    AllocatedDeviceResource,
    Allocation,
    Attribute,
    Constraint,
    Node,
    NodeDeviceResource,
    RequestedDevice,
    TaskGroup,
)

from .constraint import check_constraint
from .context import EvalContext

__all__ = [
    "FILTER_MISSING_DEVICES",
    "DeviceAllocator",
    "DeviceChecker",
    "device_matches",
    "device_meets_constraints",
]

FILTER_MISSING_DEVICES: Final = "missing devices"
DEVICE_NO_MATCH: Final = "no devices match request"

# Unit -> factor to the unit's base (bytes, hertz, watts); Nomad's psstructs units.
_UNITS: Final = {
    "": 1.0,
    "B": 1.0,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "PB": 1e15,
    "KiB": 2.0**10,
    "MiB": 2.0**20,
    "GiB": 2.0**30,
    "TiB": 2.0**40,
    "PiB": 2.0**50,
    "Hz": 1.0,
    "kHz": 1e3,
    "KHz": 1e3,
    "MHz": 1e6,
    "GHz": 1e9,
    "mW": 1e-3,
    "W": 1.0,
    "kW": 1e3,
    "KW": 1e3,
}
_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_ORDERING: Final = frozenset({"=", "==", "is", "!=", "not", "<", "<=", ">", ">="})


def device_matches(request: str, group: NodeDeviceResource) -> bool:
    """``gpu``, ``nvidia/gpu`` or ``nvidia/gpu/1080ti`` against a node's device group."""
    parts = request.split("/")
    if len(parts) == 1:
        return parts[0] == group.type
    if len(parts) == 2:
        return (parts[0], parts[1]) == (group.vendor, group.type)
    return (parts[0], parts[1], "/".join(parts[2:])) == (group.vendor, group.type, group.name)


def _attr_text(attr: Attribute) -> str | None:
    for value in (attr.int_val, attr.float_val):
        if value is not None:
            return f"{value} {attr.unit}".strip()
    if attr.bool_val is not None:
        return "true" if attr.bool_val else "false"
    return attr.string_val


def _device_value(target: str, group: NodeDeviceResource) -> str | None:
    if not target.startswith("${"):
        return target
    fixed = {
        "${device.vendor}": group.vendor,
        "${device.type}": group.type,
        "${device.model}": group.name,
    }
    if target in fixed:
        return fixed[target]
    if target.startswith("${device.attr.") and target.endswith("}"):
        attr = group.attributes.get(target[len("${device.attr.") : -1])
        return _attr_text(attr) if attr is not None else None
    return None


def _quantity(text: str) -> float | None:
    m = _QUANTITY.match(text)
    if m is None or m.group(2) not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2)]


def _check(ctx: EvalContext, c: Constraint, group: NodeDeviceResource) -> bool:
    lval, rval = _device_value(c.l_target, group), _device_value(c.r_target, group)
    if c.operand in _ORDERING and lval is not None and rval is not None:
        lq, rq = _quantity(lval), _quantity(rval)
        if lq is not None and rq is not None:
            return check_constraint(ctx, c.operand, repr(lq), repr(rq))
    return check_constraint(ctx, c.operand, lval, rval)


def device_meets_constraints(
    ctx: EvalContext, request: RequestedDevice, group: NodeDeviceResource
) -> bool:
    return device_matches(request.name, group) and all(
        _check(ctx, c, group) for c in request.constraints
    )


def _requests(tg: TaskGroup) -> list[RequestedDevice]:
    return [d for task in tg.tasks for d in task.resources.devices]


class DeviceChecker:
    """The node must offer every device the group's tasks request (healthy instances)."""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.requests: list[RequestedDevice] = []

    def set_task_group(self, tg: TaskGroup) -> None:
        self.requests = _requests(tg)

    def feasible(self, node: Node) -> bool:
        if not self.requests or self._has_devices(node):
            return True
        self.ctx.filter_node(node, FILTER_MISSING_DEVICES)
        return False

    def _has_devices(self, node: Node) -> bool:
        groups = node.node_resources.devices
        available = {g.id_tuple(): sum(1 for i in g.instances if i.healthy) for g in groups}
        for request in self.requests:
            for group in groups:
                key = group.id_tuple()
                if available[key] >= request.count and device_meets_constraints(
                    self.ctx, request, group
                ):
                    available[key] -= request.count
                    break
            else:
                return False
        return True


class DeviceAllocator:
    """Hands out free healthy device instances on one node for one placement."""

    def __init__(self, ctx: EvalContext, node: Node, proposed: list[Allocation]) -> None:
        self.ctx = ctx
        self.groups = node.node_resources.devices
        held = {
            d
            for a in proposed
            if not a.client_terminal()
            for d in a.allocated_resources.device_ids()
        }
        self.free = {
            g.id_tuple(): [
                i.id for i in g.instances if i.healthy and (g.id_tuple(), i.id) not in held
            ]
            for g in self.groups
        }
        self.matched_weight = 0.0
        self.total_weight = 0.0

    def assign(self, request: RequestedDevice) -> AllocatedDeviceResource | None:
        """Instances for ``request`` from the best-matching group, or None."""
        best: NodeDeviceResource | None = None
        best_weight = 0.0
        for group in self.groups:
            if len(self.free[group.id_tuple()]) < request.count:
                continue
            if not device_meets_constraints(self.ctx, request, group):
                continue
            weight = float(
                sum(
                    a.weight
                    for a in request.affinities
                    if _check(
                        self.ctx,
                        Constraint(l_target=a.l_target, r_target=a.r_target, operand=a.operand),
                        group,
                    )
                )
            )
            if best is None or weight > best_weight:
                best, best_weight = group, weight
        if best is None:
            return None
        self.matched_weight += best_weight
        self.total_weight += sum(abs(a.weight) for a in request.affinities)
        free = self.free[best.id_tuple()]
        ids, free[:] = free[: request.count], free[request.count :]
        return AllocatedDeviceResource(
            vendor=best.vendor, type=best.type, name=best.name, device_ids=ids
        )

    def affinity_score(self) -> float | None:
        """Matched over total affinity weight; None when no request has affinities."""
        if not self.total_weight:
            return None
        return self.matched_weight / self.total_weight
