"""How nodes meet node pools: an unknown pool is created when the node registers in the
authoritative region; elsewhere the node waits in "initializing" until the pool is
replicated; no node may register in the built-in ``all`` pool."""

from __future__ import annotations

import msgspec
import pytest
from server_fakes import make_job, make_node, server_config

from nomadic.errors import ValidationError
from nomadic.server import LocalServerRPC, Server
from nomadic.state.entries import NodePoolUpsert
from nomadic.structs import NodePool


async def test_authoritative_region_creates_the_pool_of_a_new_node(server: Server) -> None:
    rpc = LocalServerRPC(server)
    await rpc.node_register(msgspec.structs.replace(make_node("n1"), node_pool="gpu"))
    pool = server.snapshot().node_pool_by_name("gpu")
    assert pool is not None and pool.description == ""
    node = server.snapshot().node_by_id("n1")
    assert node is not None and node.status == "ready"


async def test_no_node_registers_in_the_all_pool(server: Server) -> None:
    rpc = LocalServerRPC(server)
    with pytest.raises(ValidationError, match='not allowed to register in node pool "all"'):
        await rpc.node_register(msgspec.structs.replace(make_node("n1"), node_pool="all"))


async def test_other_regions_keep_the_node_initializing_until_its_pool_arrives() -> None:
    server = Server(server_config(region="us", authoritative_region="eu"))
    await server.start()
    try:
        await server.wait_for_leader()
        rpc = LocalServerRPC(server)
        await rpc.node_register(msgspec.structs.replace(make_node("n1"), node_pool="gpu"))
        assert server.snapshot().node_pool_by_name("gpu") is None
        node = server.snapshot().node_by_id("n1")
        assert node is not None and node.status == "initializing"
        await rpc.node_update_status("n1", "ready")  # the heartbeat
        assert server.snapshot().node_by_id("n1").status == "initializing"  # type: ignore[union-attr]
        await server.apply(NodePoolUpsert(pools=[NodePool(name="gpu")]))  # as replication does
        await rpc.node_update_status("n1", "ready")
        assert server.snapshot().node_by_id("n1").status == "ready"  # type: ignore[union-attr]
    finally:
        await server.shutdown()


async def test_jobs_need_an_existing_pool_and_namespace(server: Server) -> None:
    job = make_job()
    with pytest.raises(ValidationError, match=r'node pool "nope" does not exist; create it'):
        await server.job_register(msgspec.structs.replace(job, node_pool="nope"))
    with pytest.raises(ValidationError, match=r'namespace "dev" does not exist; create it with'):
        await server.job_register(msgspec.structs.replace(job, namespace="dev"))
    with pytest.raises(ValidationError, match=r'namespace "dev" does not exist'):
        await server.job_plan(msgspec.structs.replace(job, namespace="dev"))
    resp = await server.job_register(msgspec.structs.replace(job, node_pool="all"))
    assert resp.eval_id
