"""What a server shows of the federation: every server of every region as Nomad lists them.

``GET /v1/agent/members`` (``nomadic server members``) shows the WAN gossip's member table
(``nomadic.rpc.membership``) as Serf members with Nomad's tags (``region``, ``dc``, ``port``,
``leader``, ``raft_addr``). For this server's own region, who leads comes from Raft (the
gossiped flag can be a round old), and Raft peers gossip has not reached yet are listed from
the Raft configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomadic.structs.requests import ServerMember

if TYPE_CHECKING:
    from .server import Server

__all__ = ["wan_members"]


def wan_members(server: Server, raft: list[ServerMember]) -> list[ServerMember]:
    if server.gossip is None:
        return raft
    raft_by_name = {m.name: m for m in raft}
    found: dict[str, ServerMember] = {}
    for view in server.gossip.views():
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
