"""Host port assignment for one node (the part of Nomad's NetworkIndex the scheduler needs).

Static (reserved) ports are taken as asked if free; dynamic ports are drawn from the node's
[MinDynamicPort, MaxDynamicPort] with the evaluation's seeded RNG, avoiding ports held by the
node's reservations, its allocations (including ones this plan proposes) and earlier asks.
"""

from __future__ import annotations

import random
from typing import Final

from nomadic.structs import AllocatedPortMapping, NetworkResource, Node, Port

__all__ = ["ERR_DYNAMIC_PORTS", "PortIndex"]

ERR_DYNAMIC_PORTS: Final = "dynamic port selection failed"
# Random picks tried before falling back to enumerating the free ports (Nomad's value).
MAX_RAND_PORT_ATTEMPTS: Final = 20


class PortIndex:
    def __init__(self, node: Node, used: set[int], rng: random.Random) -> None:
        self.node = node
        self.used = set(used)
        self.rng = rng
        nets = node.node_resources.networks
        self.host_ip = nets[0].ip if nets and nets[0].ip else ""
        if not self.host_ip:
            self.host_ip = node.attributes.get("unique.network.ip-address", "")

    def assign(self, ask: NetworkResource) -> tuple[NetworkResource | None, str]:
        """Ports for ``ask`` as an offer (and mark them used), or (None, reason)."""
        for port in ask.reserved_ports:
            if port.value in self.used:
                return None, f"reserved port collision {port.label}={port.value}"
        reserved = {p.value for p in ask.reserved_ports}
        picked = self._pick_dynamic(len(ask.dynamic_ports), self.used | reserved)
        if picked is None:
            return None, ERR_DYNAMIC_PORTS
        dynamic = [
            Port(label=p.label, value=v, to=p.to, host_network=p.host_network)
            for p, v in zip(ask.dynamic_ports, picked, strict=True)
        ]
        self.used |= reserved | set(picked)
        offer = NetworkResource(
            mode=ask.mode,
            device=ask.device,
            ip=self.host_ip,
            mbits=ask.mbits,
            reserved_ports=[
                Port(label=p.label, value=p.value, to=p.to, host_network=p.host_network)
                for p in ask.reserved_ports
            ],
            dynamic_ports=dynamic,
        )
        return offer, ""

    def port_mappings(self, offer: NetworkResource) -> list[AllocatedPortMapping]:
        """The offer as AllocatedResources.Shared.Ports (``to = -1`` means same as the value)."""
        return [
            AllocatedPortMapping(
                label=p.label, value=p.value, to=p.value if p.to == -1 else p.to, host_ip=offer.ip
            )
            for p in offer.reserved_ports + offer.dynamic_ports
        ]

    def _pick_dynamic(self, count: int, taken: set[int]) -> list[int] | None:
        if count == 0:
            return []
        lo = self.node.node_resources.min_dynamic_port
        hi = self.node.node_resources.max_dynamic_port
        picked: list[int] = []
        for _ in range(count):
            port = self._random_free(lo, hi, taken | set(picked))
            if port is None:
                break
            picked.append(port)
        if len(picked) == count:
            return picked
        # Random probing failed (a crowded range): enumerate what is free and sample it.
        free = [p for p in range(lo, hi + 1) if p not in taken]
        if len(free) < count:
            return None
        return self.rng.sample(free, count)

    def _random_free(self, lo: int, hi: int, taken: set[int]) -> int | None:
        if hi < lo:
            return None
        for _ in range(MAX_RAND_PORT_ATTEMPTS):
            port = self.rng.randint(lo, hi)
            if port not in taken:
                return port
        return None
