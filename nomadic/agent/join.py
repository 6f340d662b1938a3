"""Forming the Raft cluster from ``server { bootstrap_expect server_join { retry_join } }``.

Only servers of the agent's own region become Raft peers; a ``retry_join`` address in another
region federates through the WAN gossip (``nomadic.rpc.gossip``) and never joins the quorum.

Raft needs every peer's Raft address; users give the servers' RPC addresses (as in Nomad).
Each address is asked for its ``Status.Member`` until ``bootstrap_expect - 1`` other servers
answered; the peer set (a list of ``MemberInfo``: name, Raft and RPC addresses) is then written
to ``<data_dir>/server/peers.json`` so a restarted server rejoins at once even while some of
its peers are down.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from nomadic.errors import ConfigError, NomadicError
from nomadic.rpc.client import rpc_addresses
from nomadic.rpc.gossip import GossipConfig
from nomadic.rpc.wire import MemberInfo
from nomadic.server.heartbeat import HeartbeatConfig

from .config import AgentConfig, parse_duration

if TYPE_CHECKING:
    from nomadic.rpc import RPCServer

__all__ = ["gossip_config", "join_servers", "rpc_addresses", "server_heartbeat_config"]

log = logging.getLogger("nomadic.agent")
JOIN_RETRY_MAX = 5.0


def server_heartbeat_config(cfg: AgentConfig) -> HeartbeatConfig:
    s = cfg.server
    return HeartbeatConfig(
        min_heartbeat_ttl=parse_duration(s.min_heartbeat_ttl, "server.min_heartbeat_ttl"),
        heartbeat_grace=parse_duration(s.heartbeat_grace, "server.heartbeat_grace"),
        failover_heartbeat_ttl=parse_duration(
            s.failover_heartbeat_ttl, "server.failover_heartbeat_ttl"
        ),
    )


def gossip_config(cfg: AgentConfig) -> GossipConfig:
    s = cfg.server
    return GossipConfig(
        interval=parse_duration(s.wan_gossip_interval, "server.wan_gossip_interval"),
        failure_timeout=parse_duration(s.wan_failure_timeout, "server.wan_failure_timeout"),
        reap_timeout=parse_duration(s.wan_reap_timeout, "server.wan_reap_timeout"),
    )


async def join_servers(cfg: AgentConfig, data_dir: str, rpc: RPCServer) -> list[str]:
    """The other servers' Raft addresses; fills ``rpc.rpc_by_raft``."""
    expect = cfg.server.bootstrap_expect
    if expect > 1 and not cfg.server.retry_join:
        raise ConfigError(
            f"server: bootstrap_expect = {expect} needs the other servers: set "
            'server { server_join { retry_join = ["host:4647", ...] } }'
        )
    peers_file = Path(data_dir) / "server" / "peers.json"
    if peers_file.exists():
        try:
            known = msgspec.json.decode(peers_file.read_bytes(), type=list[MemberInfo])
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigError(
                f"{peers_file}: unreadable peer set ({exc}); restore it or remove the "
                "server's data_dir to join as a new server"
            ) from None
        for member in known:
            rpc.learn(member)
        return sorted(m.raft_addr for m in known if m.raft_addr != rpc.member.raft_addr)
    if expect <= 1:
        return []
    found = await _resolve(rpc_addresses(cfg.server.retry_join), expect - 1, rpc)
    for member in found.values():
        rpc.learn(member)
    os.makedirs(peers_file.parent, exist_ok=True)
    members = [*found.values(), rpc.member]
    peers_file.write_bytes(msgspec.json.encode(members))
    return sorted(found)


async def _resolve(addrs: list[str], want: int, rpc: RPCServer) -> dict[str, MemberInfo]:
    found: dict[str, MemberInfo] = {}
    delay = 0.2
    while True:
        for addr in addrs:
            if addr == rpc.member.rpc_addr or addr in {m.rpc_addr for m in found.values()}:
                continue
            try:
                member = await rpc.pool.member(addr, timeout=2.0)
            except NomadicError as exc:
                log.debug("join: %s did not answer: %s", addr, exc)
                continue
            if member.region != rpc.member.region:
                continue  # another region: federated by gossip, never a Raft peer
            if member.raft_addr != rpc.member.raft_addr:
                found[member.raft_addr] = msgspec.structs.replace(member, leader=False)
        if len(found) >= want:
            addrs_found = sorted(m.rpc_addr for m in found.values())
            log.info("join: found %d other servers: %s", len(found), addrs_found)
            return found
        log.info(
            "join: waiting for servers (%d of %d found; retry_join = %s)", len(found), want, addrs
        )
        await asyncio.sleep(delay)
        delay = min(delay * 2, JOIN_RETRY_MAX)
