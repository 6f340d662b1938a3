"""gRPC between agents over mutual TLS: calls succeed with certificates from the cluster's CA,
and a caller without TLS, or with a certificate from another CA, gets nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomadic.errors import ConfigError
from nomadic.rpc import RPCPool, RPCServer
from nomadic.rpc.client import RPCUnavailableError
from nomadic.rpc.tls import RPCTLS
from nomadic.rpc.wire import Empty, MemberInfo
from nomadic.testing.agent_process import free_port
from nomadic.testing.tls import make_ca, make_cert


def tls_for(directory: Path, role: str) -> RPCTLS:
    directory.mkdir(exist_ok=True)
    ca = make_ca(directory)
    cert = make_cert(directory, ca, role)
    return RPCTLS.load(ca.cert_file, cert.cert_file, cert.key_file, "global")


async def test_mutual_tls_between_agents(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    server_cert = make_cert(tmp_path, ca, "server")
    client_cert = make_cert(tmp_path, ca, "client")
    server_tls = RPCTLS.load(ca.cert_file, server_cert.cert_file, server_cert.key_file, "global")
    client_tls = RPCTLS.load(ca.cert_file, client_cert.cert_file, client_cert.key_file, "global")
    port = free_port()
    member = MemberInfo(name="s1.global", rpc_addr=f"127.0.0.1:{port}", raft_addr="127.0.0.1:1")
    server = RPCServer("127.0.0.1", port, member, RPCPool(server_tls))
    await server.start()
    pools = [RPCPool(client_tls), RPCPool(), RPCPool(tls_for(tmp_path / "other", "client"))]
    try:
        assert (await pools[0].member(member.rpc_addr)).name == "s1.global"
        for pool in pools[1:]:  # plaintext, or a certificate the cluster's CA did not sign
            with pytest.raises(RPCUnavailableError, match="UNAVAILABLE"):
                await pool.member(member.rpc_addr, timeout=3.0)
    finally:
        for pool in pools:
            await pool.close()
        await server.stop()
        await server.pool.close()


def test_missing_or_bad_files_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tls.ca_file is required when tls \{ rpc = true \}"):
        RPCTLS.load("", "c", "k", "global")
    with pytest.raises(ConfigError, match=r"tls.cert_file = '.*nope.pem': cannot read it"):
        ca = make_ca(tmp_path)
        RPCTLS.load(ca.cert_file, str(tmp_path / "nope.pem"), ca.key_file, "global")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(ConfigError, match=r"tls.key_file = '.*junk.pem': not a PEM file"):
        RPCTLS.load(ca.cert_file, ca.cert_file, str(junk), "global")


async def test_federated_servers_check_the_dialled_regions_name(tmp_path: Path) -> None:
    """Cross-region calls check ``server.<that region>.nomad``; a join (region not known yet)
    checks the joiner's own region name, so the joined server's certificate carries it too."""
    ca = make_ca(tmp_path)
    certs = {
        "eu": make_cert(tmp_path, ca, "server", "eu"),
        "us": make_cert(tmp_path, ca, "server", "us", extra_names=("server.eu.nomad",)),
        "ap": make_cert(tmp_path, ca, "server", "ap"),
    }
    servers = {}
    for region, cert in certs.items():
        tls = RPCTLS.load(ca.cert_file, cert.cert_file, cert.key_file, region)
        port = free_port()
        member = MemberInfo(name=f"s1.{region}", region=region, rpc_addr=f"127.0.0.1:{port}")
        servers[region] = RPCServer("127.0.0.1", port, member, RPCPool(tls))
        await servers[region].start()
    eu, us, ap = servers["eu"], servers["us"], servers["ap"]
    try:
        assert await eu.gossip.join([us.member.rpc_addr]) == (1, "")
        assert (await eu.region_rpc("us", "Status.Member", Empty(), MemberInfo)).region == "us"
        await us.gossip.round()  # us -> eu, checked for server.eu.nomad
        assert us.gossip.regions() == ["eu", "us"]
        joined, error = await eu.gossip.join([ap.member.rpc_addr])
        assert joined == 0 and "UNAVAILABLE" in error  # ap's certificate lacks server.eu.nomad
    finally:
        for rpc in servers.values():
            await rpc.stop()
            await rpc.pool.close()
