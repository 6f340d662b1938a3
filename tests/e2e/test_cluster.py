"""A real cluster: 3 server processes in a Raft quorum and 2 client-only agents over gRPC.

Covers what a user of a Nomad cluster notices: clients register through any server, a job
submitted to a follower runs, a killed leader is replaced within seconds without losing an
acknowledged registration, and a killed client's allocations are replaced elsewhere.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

SERVER_TUNING = """
  min_heartbeat_ttl      = "1s"
  heartbeat_grace        = "2s"
  failover_heartbeat_ttl = "3s"
  num_schedulers         = 1
"""

JOB = """
job "%(name)s" {
  type        = "service"
  datacenters = ["*"]
  group "web" {
    count = %(count)d
    task "web" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
"""


class Cluster:
    def __init__(self, root: Path) -> None:
        self.servers = [AgentProcess(root / f"server{i}", dev=False) for i in range(3)]
        rpc = [f"127.0.0.1:{s.rpc_port}" for s in self.servers]
        join = json.dumps(rpc)
        for s in self.servers:
            with s.config_path.open("a") as f:
                f.write(
                    f'name = "{s.workdir.name}"\nserver {{\n  enabled = true\n'
                    f"  bootstrap_expect = 3\n  server_join {{\n    retry_join = {join}\n  }}\n"
                    f"{SERVER_TUNING}}}\n"
                )
        self.clients = [AgentProcess(root / f"client{i}", dev=False) for i in range(2)]
        for c in self.clients:
            with c.config_path.open("a") as f:
                f.write(
                    f'name = "{c.workdir.name}"\nclient {{\n  enabled = true\n'
                    f"  servers = {join}\n}}\n"
                    'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
                )

    def alive(self) -> list[AgentProcess]:
        return [s for s in self.servers if s.proc is not None and s.proc.poll() is None]

    def leader(self) -> AgentProcess:
        """The server every live server names as leader (polls until they agree)."""

        def agreed() -> AgentProcess | None:
            names = {s.get("/v1/status/leader") for s in self.alive()}
            if len(names) != 1 or "" in names:
                return None
            (addr,) = names
            return next((s for s in self.alive() if addr.endswith(f":{s.rpc_port}")), None)

        return wait_for(agreed, timeout=30, what="the servers to agree on a leader")

    def follower(self) -> AgentProcess:
        leader = self.leader()
        return next(s for s in self.alive() if s is not leader)

    def stop(self) -> None:
        for agent in [*self.clients, *self.servers]:
            agent.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        for s in c.servers:
            s.start(wait_ready=False)
        c.leader()
        for client in c.clients:
            client.start(wait_ready=False)
        wait_for(
            lambda: len(ready_nodes(c.servers[0])) == 2, timeout=60, what="2 ready client nodes"
        )
        yield c
    except BaseException:
        for agent in [*c.servers, *c.clients]:
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        c.stop()


def ready_nodes(agent: AgentProcess) -> list[dict[str, Any]]:
    return [n for n in agent.get("/v1/nodes") if n["Status"] == "ready"]


def run_job(agent: AgentProcess, tmp: Path, name: str, count: int) -> None:
    path = tmp / f"{name}.hcl"
    path.write_text(JOB % {"name": name, "count": count})
    agent.cli("job", "run", "-detach", str(path), check=True)


def running_allocs(agent: AgentProcess, job: str) -> list[dict[str, Any]]:
    allocs = agent.get(f"/v1/job/{job}/allocations")
    return [a for a in allocs if a["ClientStatus"] == "running"]


def test_cli_shows_servers_peers_and_nodes(cluster: Cluster) -> None:
    leader = cluster.leader()
    follower = cluster.follower()
    members = follower.cli("server", "members", check=True).stdout.splitlines()
    assert members[0].split()[:5] == ["Name", "Address", "Port", "Status", "Leader"]
    rows = [line.split() for line in members[1:]]
    assert sorted(r[0] for r in rows) == ["server0.global", "server1.global", "server2.global"]
    assert all(r[3] == "alive" for r in rows)
    assert [r[2] for r in rows if r[4] == "true"] == [str(leader.rpc_port)]
    peers = follower.cli("operator", "raft", "list-peers", check=True).stdout.splitlines()
    assert peers[0].split() == ["Node", "ID", "Address", "State", "Voter", "RaftProtocol"]
    states = sorted(line.split()[3] for line in peers[1:])
    assert states == ["follower", "follower", "leader"]
    nodes = follower.cli("node", "status", check=True).stdout
    assert "client0" in nodes and "client1" in nodes and nodes.count("ready") == 2


def test_job_submitted_to_a_follower_runs_on_the_clients(cluster: Cluster, tmp_path: Path) -> None:
    follower = cluster.follower()
    run_job(follower, tmp_path, "web", 4)
    allocs = wait_for(
        lambda: (a := running_allocs(follower, "web")) and len(a) == 4 and a,
        timeout=60,
        what="4 running web allocations",
    )
    assert {a["NodeID"] for a in allocs} <= {n["ID"] for n in ready_nodes(follower)}


def test_leader_kill_keeps_acknowledged_writes(cluster: Cluster, tmp_path: Path) -> None:
    acknowledged = []
    for i in range(5):
        run_job(cluster.follower(), tmp_path, f"before-{i}", 1)
        acknowledged.append(f"before-{i}")
    leader = cluster.leader()
    leader.stop(signal.SIGKILL)
    new_leader = cluster.leader()
    assert new_leader is not leader
    for i in range(3):
        run_job(cluster.alive()[i % 2], tmp_path, f"after-{i}", 1)
        acknowledged.append(f"after-{i}")
    for server in cluster.alive():
        ids = {j["ID"] for j in server.get("/v1/jobs")}
        missing = [name for name in acknowledged if name not in ids]
        assert not missing, f"{server.workdir.name} lost acknowledged jobs {missing}"
    # the killed server comes back from its data dir and catches up
    leader.start(wait_ready=False)
    wait_for(
        lambda: {j["ID"] for j in leader.get("/v1/jobs")} >= set(acknowledged),
        timeout=60,
        what="the restarted server to catch up",
    )


def test_killed_client_allocations_are_replaced(cluster: Cluster) -> None:
    server = cluster.alive()[0]
    names = {n["ID"]: n["Name"] for n in server.get("/v1/nodes")}
    on_node = [a["NodeID"] for a in running_allocs(server, "web")]
    victim_node = max(set(on_node), key=on_node.count)  # the client with the most web allocs
    victim = next(c for c in cluster.clients if c.workdir.name == names[victim_node])
    survivor_node = next(i for i in names if i != victim_node)
    victim.stop(signal.SIGKILL)
    wait_for(
        lambda: server.get(f"/v1/node/{victim_node}")["Status"] == "down",
        timeout=60,
        what="the killed client's node to be down",
    )

    def replaced() -> bool:
        nodes = [a["NodeID"] for a in running_allocs(server, "web")]
        return nodes == [survivor_node] * 4

    wait_for(replaced, timeout=60, what="4 running web allocations, all on the survivor")
    lost = [a for a in server.get("/v1/job/web/allocations") if a["NodeID"] == victim_node]
    assert lost and all(a["ClientStatus"] == "lost" for a in lost)


def test_full_cluster_restart_keeps_state(cluster: Cluster) -> None:
    before = {j["ID"]: j["JobModifyIndex"] for j in cluster.alive()[0].get("/v1/jobs")}
    allocs_before = {a["ID"] for a in cluster.alive()[0].get("/v1/allocations")}
    for server in cluster.servers:
        server.stop()
    for server in cluster.servers:
        server.start(wait_ready=False)
    cluster.leader()
    for server in cluster.servers:
        # a restarted server replays its journal and catches up with the leader's commits
        wait_for(
            lambda s=server: {j["ID"]: j["JobModifyIndex"] for j in s.get("/v1/jobs")} == before,
            timeout=30,
            what=f"the same jobs on restarted {server.workdir.name}",
        )
        assert {a["ID"] for a in server.get("/v1/allocations")} >= allocs_before
    # and the cluster still takes writes
    run_job(cluster.follower(), cluster.servers[0].workdir, "after-restart", 1)


def test_snapshot_save_and_restore_into_a_fresh_cluster(cluster: Cluster, tmp_path: Path) -> None:
    follower = cluster.follower()
    snap = tmp_path / "s.snap"
    result = follower.cli("operator", "snapshot", "save", str(snap), check=True)
    assert result.stdout.strip() == f"State file written to {snap}"
    jobs = {j["ID"] for j in follower.get("/v1/jobs")}

    fresh = AgentProcess(tmp_path / "fresh", dev=False)
    with fresh.config_path.open("a") as f:
        f.write("server {\n  enabled = true\n  bootstrap_expect = 1\n}\n")
    fresh.start(wait_ready=False)
    try:
        wait_for(lambda: fresh.get("/v1/status/leader"), timeout=30, what="the fresh leader")
        assert fresh.get("/v1/jobs") == []
        result = fresh.cli("operator", "snapshot", "restore", str(snap), check=True)
        assert result.stdout.strip() == "Snapshot Restored"
        assert {j["ID"] for j in fresh.get("/v1/jobs")} == jobs
        # the restored cluster keeps taking writes
        run_job(fresh, tmp_path, "after-restore", 1)
        assert "after-restore" in {j["ID"] for j in fresh.get("/v1/jobs")}
        bad = tmp_path / "bad.snap"
        bad.write_bytes(b"not a snapshot")
        result = fresh.cli("operator", "snapshot", "restore", str(bad))
        assert result.returncode == 1
        assert "not a nomadic snapshot" in result.stderr
    finally:
        fresh.stop()


def test_five_servers_tolerate_two_failures(tmp_path: Path) -> None:
    servers = [AgentProcess(tmp_path / f"s{i}", dev=False) for i in range(5)]
    join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in servers])
    for s in servers:
        with s.config_path.open("a") as f:
            f.write(
                f'name = "{s.workdir.name}"\nserver {{\n  enabled = true\n'
                f"  bootstrap_expect = 5\n  server_join {{\n    retry_join = {join}\n  }}\n"
                f"{SERVER_TUNING}}}\n"
            )
    c = Cluster.__new__(Cluster)
    c.servers, c.clients = servers, []
    try:
        for s in servers:
            s.start(wait_ready=False)
        c.leader()
        run_job(c.follower(), tmp_path, "five-0", 1)
        for victim in (c.leader(), c.follower()):
            victim.stop(signal.SIGKILL)
        run_job(c.follower(), tmp_path, "five-2", 1)  # 3 of 5 left: still a quorum
        c.alive()[0].stop(signal.SIGKILL)
        survivor = c.alive()[0]
        path = tmp_path / "refused.hcl"
        path.write_text(JOB % {"name": "refused", "count": 1})

        exit_codes: list[int] = []

        def refused() -> str | None:
            # a write caught before the leader steps down gets "may or may not have been
            # applied"; after that every write gets "No cluster leader"
            result = survivor.cli("job", "run", "-detach", str(path), timeout=60)
            exit_codes.append(result.returncode)
            return result.stderr if "No cluster leader" in result.stderr else None

        stderr = wait_for(refused, timeout=60, what="writes to be refused without quorum")
        assert set(exit_codes) == {1}, "a write was acknowledged without a quorum"
        assert "No cluster leader" in stderr
        ids = {j["ID"] for j in survivor.get("/v1/jobs?stale")}
        assert {"five-0", "five-2"} <= ids and "refused" not in ids
    finally:
        c.stop()
