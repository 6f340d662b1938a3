"""Scheduling on followers, removing a dead server, and what a cluster without quorum says.

Three servers where only ``server2`` runs a scheduler worker (``num_schedulers = 0`` on the
others) and that server is made a follower: every placement then proves that a follower's
worker dequeued the eval from the leader's broker over gRPC and that the leader's plan applier
committed its plan. Then a dead server is removed with ``operator raft remove-peer``: the two
left keep committing, and losing one more leaves no quorum ("No cluster leader", HTTP 500),
while ``?stale`` reads are still answered.
"""

from __future__ import annotations

import json
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cluster import JOB, Cluster, ready_nodes, run_job, running_allocs

from nomadic.testing.agent_process import AgentProcess, free_port, wait_for

pytestmark = pytest.mark.e2e

TUNING = """
  min_heartbeat_ttl      = "2s"
  heartbeat_grace        = "5s"
  failover_heartbeat_ttl = "10s"
"""
SCHEDULER = "server2"  # the only server with a scheduler worker


class FollowerScheduledCluster(Cluster):
    def __init__(self, root: Path) -> None:
        self.servers = [AgentProcess(root / f"server{i}", dev=False) for i in range(3)]
        join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in self.servers])
        for s in self.servers:
            workers = 1 if s.workdir.name == SCHEDULER else 0
            with s.config_path.open("a") as f:
                f.write(
                    f'name = "{s.workdir.name}"\nlog_level = "DEBUG"\nserver {{\n'
                    f"  enabled = true\n  bootstrap_expect = 3\n  num_schedulers = {workers}\n"
                    f"  server_join {{\n    retry_join = {join}\n  }}\n{TUNING}}}\n"
                )
        client = AgentProcess(root / "client0", dev=False)
        with client.config_path.open("a") as f:
            f.write(
                f'name = "client0"\nclient {{\n  enabled = true\n  servers = {join}\n}}\n'
                'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
            )
        self.clients = [client]

    def by_name(self, name: str) -> AgentProcess:
        return next(s for s in self.servers if s.workdir.name == name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FollowerScheduledCluster]:
    c = FollowerScheduledCluster(tmp_path_factory.mktemp("membership"))
    try:
        for s in c.servers:
            s.start(wait_ready=False)
        c.leader()
        c.clients[0].start(wait_ready=False)
        wait_for(lambda: len(ready_nodes(c.servers[0])) == 1, timeout=60, what="a ready client")
        yield c
    except BaseException:
        for agent in [*c.servers, *c.clients]:
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        c.stop()


def get_with_headers(agent: AgentProcess, path: str) -> tuple[Any, dict[str, str]]:
    with urllib.request.urlopen(agent.address + path, timeout=30) as resp:
        return json.loads(resp.read()), dict(resp.headers)


def test_a_followers_worker_schedules_when_the_leader_has_none(
    cluster: FollowerScheduledCluster, tmp_path: Path
) -> None:
    scheduler = cluster.by_name(SCHEDULER)
    if cluster.leader() is scheduler:
        # make it a follower: a restarted server rejoins under the leader the others elected
        scheduler.stop()
        wait_for(lambda: cluster.leader() is not scheduler, timeout=30, what="a new leader")
        scheduler.start(wait_ready=False)
        wait_for(lambda: scheduler.get("/v1/status/leader"), timeout=30, what="server2 to rejoin")
    leader = cluster.leader()
    assert leader is not scheduler
    assert "started 0 scheduler workers" in leader.log_path.read_text()

    run_job(leader, tmp_path, "placed-by-follower", 2)
    wait_for(
        lambda: len(running_allocs(leader, "placed-by-follower")) == 2,
        timeout=60,
        what="2 running allocations although the leader has no scheduler worker",
    )
    evals = leader.get("/v1/job/placed-by-follower/evaluations")
    assert evals and all(e["Status"] == "complete" for e in evals)
    log = scheduler.log_path.read_text()
    for ev in evals:
        assert re.search(rf"dequeued evaluation: .*eval_id={ev['ID']}.*remote=True", log), (
            f"eval {ev['ID']} was not dequeued by {SCHEDULER}'s worker over gRPC"
        )


def test_stale_reads_on_a_follower_carry_leader_and_index_headers(
    cluster: FollowerScheduledCluster,
) -> None:
    follower = cluster.follower()
    jobs, headers = get_with_headers(follower, "/v1/jobs?stale")
    assert "placed-by-follower" in {j["ID"] for j in jobs}
    assert headers["X-Nomad-KnownLeader"] == "true"
    assert int(headers["X-Nomad-Index"]) > 0


def test_remove_a_dead_peer_then_lose_quorum(
    cluster: FollowerScheduledCluster, tmp_path: Path
) -> None:
    leader = cluster.leader()
    scheduler = cluster.by_name(SCHEDULER)
    victim = next(s for s in cluster.alive() if s not in (leader, scheduler))
    victim.stop(signal.SIGKILL)

    unknown = leader.cli("operator", "raft", "remove-peer", "-peer-address", "127.0.0.1:1")
    assert unknown.returncode == 1
    assert "127.0.0.1:1 is not a Raft peer" in unknown.stderr
    raft_addr = f"127.0.0.1:{victim.raft_port}"
    # asked on a follower: forwarded to the leader
    result = scheduler.cli("operator", "raft", "remove-peer", "-peer-address", raft_addr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'Removed peer with address "{raft_addr}"'

    def two_peers() -> list[list[str]] | None:
        out = scheduler.cli("operator", "raft", "list-peers", check=True).stdout.splitlines()
        rows = [line.split() for line in out[1:]]
        return rows if len(rows) == 2 else None

    rows = wait_for(two_peers, timeout=30, what="list-peers to show 2 servers")
    assert raft_addr not in {r[2] for r in rows}
    assert sorted(r[3] for r in rows) == ["follower", "leader"]
    members = leader.cli("server", "members", check=True).stdout.splitlines()[1:]
    status = {line.split()[0]: line.split()[3] for line in members}
    # the removed server stays listed as "left" (as after Nomad's force-leave) until reaped
    assert sorted(n for n, s in status.items() if s == "alive") == sorted(
        f"{s.workdir.name}.global" for s in (leader, scheduler)
    )
    assert status[f"{victim.workdir.name}.global"] == "left"

    # two servers commit on their own, and the follower's worker still schedules
    run_job(leader, tmp_path, "after-remove", 1)
    wait_for(
        lambda: len(running_allocs(leader, "after-remove")) == 1,
        timeout=60,
        what="the job submitted after remove-peer to run",
    )

    # a quorum of two tolerates no further loss
    scheduler.stop(signal.SIGKILL)
    parsed_status, parsed = leader.request(
        "POST", "/v1/jobs/parse", {"JobHCL": JOB % {"name": "refused", "count": 1}}
    )
    assert parsed_status == 200, parsed

    # without quorum the leader steps down (5 s); a write that reached it before then was
    # answered with "may or may not have been applied" and may still commit once quorum
    # returns, as in Nomad, so this waits for the step-down and then writes
    def stepped_down() -> bool:
        return get_with_headers(leader, "/v1/jobs?stale")[1]["X-Nomad-KnownLeader"] == "false"

    wait_for(stepped_down, timeout=30, what="the lone leader to step down")
    status, body = leader.request("POST", "/v1/jobs", {"Job": json.loads(parsed)})
    assert (status, body.strip()) == (500, b"No cluster leader")
    jobs, _ = get_with_headers(leader, "/v1/jobs?stale")
    ids = {j["ID"] for j in jobs}
    assert {"placed-by-follower", "after-remove"} <= ids and "refused" not in ids

    # the lost server comes back: quorum again, and the removed peer stays removed although
    # its address is still in the peers.json the restarted server started from
    scheduler.start(wait_ready=False)
    cluster.leader()
    run_job(scheduler, tmp_path, "after-recovery", 1)
    assert "refused" not in {j["ID"] for j in leader.get("/v1/jobs")}
    rows = wait_for(two_peers, timeout=30, what="still 2 peers after the restart")
    assert raft_addr not in {r[2] for r in rows}


def test_a_client_without_reachable_servers_retries_with_backoff(tmp_path: Path) -> None:
    client = AgentProcess(tmp_path / "lonely", dev=False)
    with client.config_path.open("a") as f:
        f.write(
            f'client {{\n  enabled = true\n  servers = ["127.0.0.1:{free_port()}"]\n}}\n'
            'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
        )
    client.start(wait_ready=False)
    try:
        pattern = re.compile(r"no server answered Node.Register .*; retrying in (\d+)s")
        delays = wait_for(
            lambda: (d := pattern.findall(client.log_path.read_text())) and len(d) >= 3 and d,
            timeout=30,
            what="three logged retries",
        )
        assert [int(d) for d in delays[:3]] == [1, 2, 4]
        assert client.proc is not None and client.proc.poll() is None
    finally:
        client.stop()


def test_server_and_client_talk_grpc_over_mutual_tls(tmp_path: Path) -> None:
    from nomadic.testing.tls import make_ca, make_cert

    ca = make_ca(tmp_path)
    server = AgentProcess(tmp_path / "tls-server", dev=False)
    client = AgentProcess(tmp_path / "tls-client", dev=False)
    for agent, role, body in (
        (server, "server", "server {\n  enabled = true\n  bootstrap_expect = 1\n}\n"),
        (
            client,
            "client",
            f'client {{\n  enabled = true\n  servers = ["127.0.0.1:{server.rpc_port}"]\n}}\n'
            'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n',
        ),
    ):
        cert = make_cert(tmp_path, ca, role)
        with agent.config_path.open("a") as f:
            f.write(
                body + f'tls {{\n  rpc = true\n  ca_file = "{ca.cert_file}"\n'
                f'  cert_file = "{cert.cert_file}"\n  key_file = "{cert.key_file}"\n}}\n'
            )
    try:
        server.start(wait_ready=False)
        client.start(wait_ready=False)
        wait_for(lambda: len(ready_nodes(server)) == 1, timeout=60, what="the TLS client node")
        listening = f"rpc listening on 127.0.0.1:{server.rpc_port} (mutual TLS)"
        assert listening in server.log_path.read_text()
        run_job(server, tmp_path, "over-tls", 1)
        wait_for(
            lambda: len(running_allocs(server, "over-tls")) == 1, timeout=60, what="a TLS alloc"
        )
    finally:
        client.stop()
        server.stop()
