"""The server's federation API: every server of every region, regions, joins, cross-region calls.

:class:`FederationAPI` (a mixin of :class:`~nomadic.server.Server`) answers the HTTP layer's
``members``, ``regions``, ``region_http_addrs``, ``join`` and ``force_leave`` from the gossip
(``nomadic.rpc.gossip``, attached by ``RPCServer.attach``) and gives server code
``region_rpc``, the one door for calls into another region.

``GET /v1/agent/members`` (``nomadic server members``) shows the WAN gossip's member table
(``nomadic.rpc.membership``) as Serf members with Nomad's tags (``region``, ``dc``, ``port``,
``leader``, ``raft_addr``). For this server's own region, who leads comes from Raft (the
gossiped flag can be a round old), and Raft peers gossip has not reached yet are listed from
the Raft configuration.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from nomadic.errors import RegionUnavailableError
from nomadic.structs.requests import ServerMember

if TYPE_CHECKING:
    from nomadic.rpc.gossip import Gossip

__all__ = ["CrossRegion", "FederationAPI", "wan_members"]

T = TypeVar("T")


class CrossRegion(Protocol):
    """(region, method, request, reply type) -> reply, answered by a live server there."""

    def __call__(
        self, region: str, method: str, body: Any, reply: type[T], *, timeout: float = ...
    ) -> Awaitable[T]: ...


class FederationAPI:
    region: str
    gossip: Gossip | None
    cross_region: CrossRegion | None

    def raft_members(self) -> list[ServerMember]:
        raise NotImplementedError  # provided by Server

    def members(self) -> list[ServerMember]:
        """Every server of every region (WAN gossip), and the Raft peers gossip has not
        reached yet; leadership in this region as Raft knows it."""
        return wan_members(self.region, self.gossip, self.raft_members())

    def regions(self) -> list[str]:
        return self.gossip.regions() if self.gossip is not None else [self.region]

    def region_http_addrs(self, region: str) -> list[str]:
        if self.gossip is None:
            raise RegionUnavailableError(f'No path to region "{region}": this server is alone')
        found = [m.http_addr for m in self.gossip.live(region) if m.http_addr]
        if not found:
            raise RegionUnavailableError(
                f'No path to region "{region}": its live servers have no HTTP address'
            )
        return found

    async def join(self, addresses: list[str]) -> tuple[int, str]:
        from nomadic.rpc.client import rpc_addresses

        if self.gossip is None:
            return 0, "this server does not gossip (no RPC listener)"
        return await self.gossip.join(rpc_addresses(addresses))

    def force_leave(self, name: str) -> bool:
        """Mark a (dead) server ``left`` everywhere (Nomad's ``server force-leave``); False
        when no such server is known. A live server contradicts it at its next round."""
        return self.gossip is not None and self.gossip.force_leave(name)

    async def region_rpc(
        self, region: str, method: str, body: Any, reply: type[T], *, timeout: float = 15.0
    ) -> T:
        """Call gRPC ``method`` in ``region`` (ours included): a live server there answers,
        forwarding writes to its leader; RegionUnavailableError when none is alive.
        ``timeout``: the whole call's deadline (raise it for blocking queries)."""
        if self.cross_region is None:
            raise RegionUnavailableError(f'No path to region "{region}": this server is alone')
        return await self.cross_region(region, method, body, reply, timeout=timeout)


def wan_members(region: str, gossip: Gossip | None, raft: list[ServerMember]) -> list[ServerMember]:
    """The gossip's members as Nomad's ``ServerMember``s (``region``: this server's)."""
    if gossip is None:
        return raft
    raft_by_name = {m.name: m for m in raft}
    found: dict[str, ServerMember] = {}
    for view in gossip.views():
        m = view.member
        host, _, port = m.rpc_addr.rpartition(":")
        tags = {
            "role": "nomad",
            "region": m.region,
            "dc": m.datacenter,
            "port": port,
            "raft_vsn": "3",
            "leader": "true" if m.leader else "false",
            "raft_addr": m.raft_addr,
            "http_addr": m.http_addr,
        }
        in_raft = raft_by_name.get(m.name)
        if in_raft is not None:
            tags["leader"] = in_raft.tags.get("leader", "false")
        found[m.name] = ServerMember(
            name=m.name, addr=host, port=int(port or 0), status=view.status, tags=tags
        )
    for name, member in raft_by_name.items():
        found.setdefault(name, member)
    return sorted(found.values(), key=lambda m: (m.tags.get("region", ""), m.name))
