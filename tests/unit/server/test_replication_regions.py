"""Two real regions in one process: ``eu`` (authoritative, behind a real gRPC listener) and
``us``, whose leader replicates eu's namespaces and node pools and forwards its writes of
them to eu. The cross-region call (Server.cross_region) is a plain RPC to eu's address,
standing in for the federation's WAN forwarding."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from nomadic.errors import NomadicError, ValidationError
from nomadic.rpc import RPCPool, RPCServer
from nomadic.rpc.wire import MemberInfo
from nomadic.server import Server, ServerConfig
from nomadic.server.heartbeat import HeartbeatConfig
from nomadic.structs import Namespace, NodePool
from nomadic.structs.globalobjs import (
    GlobalDeleteRequest,
    NamespaceUpsertRequest,
    NodePoolUpsertRequest,
)
from nomadic.testing.agent_process import free_port
from nomadic.testing.factories import mock_job


async def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _config(region: str, **kw: Any) -> ServerConfig:
    return ServerConfig(
        region=region,
        raft_port=free_port(),
        rpc_port=free_port(),
        num_schedulers=0,
        node_name=f"s1-{region}",
        heartbeat=HeartbeatConfig(min_heartbeat_ttl=60, heartbeat_grace=60),
        **kw,
    )


@dataclass
class Regions:
    eu: Server
    eu_rpc: RPCServer
    us: Server


@pytest.fixture
async def regions() -> AsyncIterator[Regions]:
    eu = Server(_config("eu"))
    member = MemberInfo(
        name="s1-eu.eu",
        region="eu",
        rpc_addr=f"127.0.0.1:{eu.config.rpc_port}",
        raft_addr=eu.config.raft_addr,
    )
    eu_rpc = RPCServer("127.0.0.1", eu.config.rpc_port, member, RPCPool())
    await eu_rpc.start()
    eu_rpc.attach(eu)
    await eu.start()
    await eu.wait_for_leader()

    us = Server(_config("us", authoritative_region="eu", replication_backoff=0.2))
    pool = RPCPool()

    async def region_rpc(
        region: str, method: str, body: Any, reply: type[Any], *, timeout: float = 15.0
    ) -> Any:
        assert region == "eu"
        return await pool.call(member.rpc_addr, method, body, reply, timeout=timeout)

    us.cross_region = region_rpc
    await us.start()
    await us.wait_for_leader()
    try:
        yield Regions(eu, eu_rpc, us)
    finally:
        await us.shutdown()
        await pool.close()
        await eu.shutdown()
        await eu_rpc.stop()
        await eu_rpc.pool.close()


def _ns_names(server: Server) -> list[str]:
    return [ns.name for ns in server.snapshot().namespaces()]


async def test_namespace_created_in_eu_appears_in_us_and_goes_with_it(r: Regions) -> None:
    await r.eu.namespace_upsert(NamespaceUpsertRequest(namespaces=[Namespace(name="web")]))
    await eventually(lambda: _ns_names(r.us) == ["default", "web"], "replica in us")
    assert r.us.replicator is not None
    await r.eu.namespace_delete(GlobalDeleteRequest(names=["web"]))
    await eventually(lambda: _ns_names(r.us) == ["default"], "delete replicated")


async def test_write_via_us_goes_to_eu_then_both_have_it(r: Regions) -> None:
    req = NodePoolUpsertRequest(node_pools=[NodePool(name="gpu", description="GPUs")])
    resp = await r.us.node_pool_upsert(req)
    stored = r.eu.snapshot().node_pool_by_name("gpu")  # written in eu before the reply
    assert stored is not None and stored.modify_index == resp.index
    await eventually(lambda: r.us.snapshot().node_pool_by_name("gpu") is not None, "replica")
    # eu's errors come back as they are
    with pytest.raises(ValidationError, match='modifying node pool "all" is not allowed'):
        await r.us.node_pool_upsert(NodePoolUpsertRequest(node_pools=[NodePool(name="all")]))


async def test_us_refuses_jobs_in_namespaces_eu_has_not_got(r: Regions) -> None:
    with pytest.raises(ValidationError, match='namespace "dev" does not exist'):
        await r.us.jobs.register(mock_job(namespace="dev"))
    await r.eu.namespace_upsert(NamespaceUpsertRequest(namespaces=[Namespace(name="dev")]))
    await eventually(lambda: "dev" in _ns_names(r.us), "replica in us")
    resp = await r.us.jobs.register(mock_job(namespace="dev"))
    assert resp.index > 0


async def test_us_keeps_serving_replicas_when_eu_is_gone(r: Regions) -> None:
    await r.eu.namespace_upsert(NamespaceUpsertRequest(namespaces=[Namespace(name="web")]))
    await eventually(lambda: "web" in _ns_names(r.us), "replica in us")
    await r.eu_rpc.stop()
    with pytest.raises(NomadicError):
        await r.us.namespace_upsert(NamespaceUpsertRequest(namespaces=[Namespace(name="x")]))
    replicator = r.us.replicator
    assert replicator is not None
    await eventually(lambda: replicator.status["namespaces"].last_error != "", "error noticed")
    assert _ns_names(r.us) == ["default", "web"]
    resp = await r.us.jobs.register(mock_job(namespace="web"))  # the replica still serves
    assert resp.index > 0


@pytest.fixture
def r(regions: Regions) -> Regions:
    return regions
