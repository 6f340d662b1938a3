"""Raft commit throughput and leader failover on a 3-server loopback cluster.

Prints, from one run:
- job registrations per second through the HTTP API of a real 3-server cluster (concurrent
  writers against the leader: HTTP -> endpoint -> Raft -> FSM on every server);
- raw pysyncobj commits per second, 3 in-process nodes on loopback, with entries of the same
  size as a job registration's Raft entry, and the ratio of the two;
- leader failover time: ``kill -9`` of the leader until the first write commits through a
  survivor, median of 5 (the killed server is restarted between rounds).

    uv run python benchmarks/raft_commit.py [-n 400] [--writers 16]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pysyncobj import SyncObj, SyncObjConf, replicated

from nomadic.state.entries import JobRegister, encode_entry
from nomadic.structs import to_builtins
from nomadic.testing.agent_process import AgentProcess, free_port, wait_for
from nomadic.testing.factories import mock_job


def start_cluster(root: Path) -> list[AgentProcess]:
    servers = [AgentProcess(root / f"server{i}", dev=False) for i in range(3)]
    join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in servers])
    for s in servers:
        with s.config_path.open("a") as f:
            f.write(
                f'name = "{s.workdir.name}"\nlog_level = "WARN"\nserver {{\n  enabled = true\n'
                f"  bootstrap_expect = 3\n  server_join {{\n    retry_join = {join}\n  }}\n}}\n"
            )
    for s in servers:
        s.start(wait_ready=False)
    return servers


def leader_of(servers: list[AgentProcess]) -> AgentProcess:
    def agreed() -> AgentProcess | None:
        alive = [s for s in servers if s.proc is not None and s.proc.poll() is None]
        try:
            names = {s.get("/v1/status/leader") for s in alive}
        except RuntimeError:
            return None
        if len(names) != 1:
            return None
        (addr,) = names
        return next((s for s in alive if addr.endswith(f":{s.rpc_port}")), None)

    return wait_for(agreed, timeout=60, interval=0.01, what="a leader")


def job_body(i: int, tag: str) -> dict[str, object]:
    job = mock_job(id=f"{tag}-{i}", name=f"{tag}-{i}")
    return {"Job": to_builtins(job)}


def cluster_registrations(servers: list[AgentProcess], n: int, writers: int) -> float:
    leader = leader_of(servers)
    bodies = [job_body(i, "bench") for i in range(n)]

    def register(body: dict[str, object]) -> None:
        status, text = leader.request("PUT", "/v1/jobs", body)
        if status != 200:
            raise RuntimeError(f"register failed: HTTP {status} {text[:200]!r}")

    start = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(register, bodies))
    return n / (time.perf_counter() - start)


class _Raw(SyncObj):  # type: ignore[misc]
    def __init__(self, addr: str, partners: list[str]) -> None:
        conf = SyncObjConf(appendEntriesUseBatch=False, dynamicMembershipChange=False)
        super().__init__(addr, partners, conf)
        self.count = 0

    @replicated  # type: ignore[misc]
    def apply(self, entry: bytes) -> int:
        self.count += 1
        return self.count


def raw_commits(n: int, size: int, writers: int) -> float:
    addrs = [f"127.0.0.1:{free_port()}" for _ in range(3)]
    nodes = [_Raw(a, [b for b in addrs if b != a]) for a in addrs]
    try:
        leader = wait_for(
            lambda: next((x for x in nodes if x._isLeader()), None), timeout=30, what="raw leader"
        )
        entry = b"x" * size
        sem = threading.Semaphore(writers)
        done = threading.Event()
        left = [n]
        lock = threading.Lock()

        def callback(_result: object, _err: int) -> None:
            sem.release()
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    done.set()

        start = time.perf_counter()
        for _ in range(n):
            sem.acquire()
            leader.apply(entry, callback=callback)
        done.wait(120)
        return n / (time.perf_counter() - start)
    finally:
        for node in nodes:
            node.destroy()


def failover_time(servers: list[AgentProcess], rounds: int) -> list[float]:
    times = []
    for r in range(rounds):
        leader = leader_of(servers)
        survivors = [s for s in servers if s is not leader]
        body = job_body(r, "failover")
        leader.stop(signal.SIGKILL)
        start = time.perf_counter()

        def committed(
            body: dict[str, object] = body, survivors: list[AgentProcess] = survivors
        ) -> bool:
            for s in survivors:
                status, _ = s.request("PUT", "/v1/jobs", body)
                if status == 200:
                    return True
            return False

        wait_for(committed, timeout=60, interval=0.02, what="a write after failover")
        times.append(time.perf_counter() - start)
        leader.start(wait_ready=False)
        wait_for(lambda s=leader: s.get("/v1/status/leader"), timeout=60, what="restarted server")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=400, help="registrations to time")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers")
    parser.add_argument("--rounds", type=int, default=5, help="failover rounds")
    args = parser.parse_args()

    entry_size = len(encode_entry(JobRegister(job=mock_job()), "req-00000000"))
    with tempfile.TemporaryDirectory(prefix="nomadic-bench-") as tmp:
        servers = start_cluster(Path(tmp))
        try:
            cluster_rate = cluster_registrations(servers, args.n, args.writers)
            raw_rate = raw_commits(args.n * 5, entry_size, args.writers)
            print(f"entry size (JobRegister raft entry):   {entry_size} bytes")
            print(f"cluster job registrations/s (3 servers): {cluster_rate:8.1f}")
            print(f"raw pysyncobj commits/s (3 nodes):       {raw_rate:8.1f}")
            print(f"ratio (registrations / raw commits):     {cluster_rate / raw_rate:8.3f}")
            times = failover_time(servers, args.rounds)
            shown = ", ".join(f"{t:.2f}" for t in times)
            print(
                f"leader failover, kill -9 to first commit: median {statistics.median(times):.2f}s"
                f" ({shown})"
            )
        finally:
            for s in servers:
                s.stop()


if __name__ == "__main__":
    main()
