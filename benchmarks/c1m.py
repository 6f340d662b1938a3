"""Nomad's C1M shape through the real server path: 1,000 jobs x 1,000 allocations on 5,000 nodes.

Every placement goes job register -> Raft -> eval broker -> scheduler workers -> plan queue ->
plan applier (fit re-check) -> Raft -> FSM, and is acknowledged ``running`` by a simulated
client (``nomadic.testing.simclients``: nodes registered through the client RPC seam, no
processes). Prints the total time, placements/s per 10% slice of the allocations, and the
peak RSS of the server process(es).

    uv run python benchmarks/c1m.py --nodes 500 --jobs 20 --count 100   # a quick run
    uv run python benchmarks/c1m.py                                      # the full 1M
    uv run python benchmarks/c1m.py --cluster --nodes 500 --jobs 10 --count 100

Default: an in-process dev server (one-node Raft on loopback) with the simulated clients in
the same process (so "server RSS" includes them). ``--cluster``: three ``nomadic agent``
server processes on loopback; the simulated clients and the job submitter talk gRPC to them.
``--profile FILE`` writes a cProfile of the in-process run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from nomadic.structs import Job, Resources
from nomadic.structs.requests import JobRegisterRequest, JobRegisterResponse
from nomadic.testing.factories import mock_job
from nomadic.testing.simclients import SimClients

SUBMIT_CONCURRENCY = 32


def c1m_job(i: int, count: int, cpu: int, memory_mb: int) -> Job:
    job = mock_job(id=f"c1m-{i:05d}", name=f"c1m-{i:05d}")
    tg = job.task_groups[0]
    tg.count = count
    tg.networks = []
    task = tg.tasks[0]
    task.driver = "mock"
    task.config = {"run_for": "1h"}
    task.resources = Resources(cpu=cpu, memory_mb=memory_mb)
    return job


class Progress:
    """Times at which each 10% of the expected allocations was acknowledged."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.start = 0.0
        self.marks: list[float] = []
        self.last_t = 0.0
        self.finished = asyncio.Event()

    def add(self, n: int) -> None:
        now = time.monotonic()
        before, self.done = self.done, self.done + n
        before_t = self.last_t or self.start
        self.last_t = now
        # A batch of acks spans the time since the previous one: interpolate each 10% mark.
        while len(self.marks) < 10 and self.done >= self.total * (len(self.marks) + 1) / 10:
            target = self.total * (len(self.marks) + 1) / 10
            frac = (target - before) / n if n else 1.0
            self.marks.append(before_t + (now - before_t) * frac)
            pct = len(self.marks) * 10
            print(f"  {pct:3d}%  {self.done:>9,} acked  {now - self.start:7.1f}s", flush=True)
        if self.done >= self.total:
            self.finished.set()

    def report(self, total_s: float) -> None:
        print(
            f"total: {self.done:,} allocations placed and running in {total_s:.1f}s "
            f"({self.done / total_s:,.0f} placements/s)"
        )
        prev, prev_t = 0, self.start
        print("slice   placements/s")
        for i, t in enumerate(self.marks):
            n = self.total * (i + 1) // 10
            rate = (n - prev) / (t - prev_t) if t > prev_t else 0.0
            print(f"{i * 10:3d}-{(i + 1) * 10:3d}%  {rate:>10,.0f}")
            prev, prev_t = n, t


class GCTimer:
    """Time spent in the cyclic garbage collector of this process, by generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._began = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            gen = info["generation"]
            self.seconds[gen] += time.perf_counter() - self._began
            self.count[gen] += 1

    def report(self) -> str:
        parts = [f"gen{g}: {self.count[g]} in {self.seconds[g]:.1f}s" for g in range(3)]
        return "GC in this process: " + ", ".join(parts)


class RSSWatch:
    """Samples the RSS of some processes every 0.5 s; keeps the peak of their sum."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(p) for p in pids]
        self.peak = 0
        self.cpu = 0.0  # CPU seconds of the processes so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RSSWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        total = 0
        cpu = 0.0
        for p in self.procs:
            try:
                total += p.memory_info().rss
                times = p.cpu_times()
                cpu += times.user + times.system
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)
        self.cpu = max(self.cpu, cpu)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()


class RaftWatch:
    """Polls each server's Raft stats (``/v1/agent/self``) every second in a thread; prints a
    line whenever a term or leader changes and a status line every 10 s, and a summary."""

    def __init__(self, servers: list[Any]) -> None:
        self.servers = servers
        self.last: list[dict[str, str]] = [{} for _ in servers]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RaftWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self, i: int) -> dict[str, str]:
        try:
            raft = self.servers[i].get("/v1/agent/self")["stats"].get("raft", {})
            return {k: str(v) for k, v in raft.items()}
        except Exception as exc:  # a busy server may not answer within the HTTP timeout
            return {"state": f"unreachable ({exc.__class__.__name__})"}

    def line(self) -> str:
        parts = []
        for i, r in enumerate(self.last):
            parts.append(
                f"s{i} {r.get('state', '?')[:4]} t{r.get('term', '?')} "
                f"commit {r.get('commit_index', '?')} applied {r.get('applied_index', '?')} "
                f"gap {r.get('max_tick_gap_ms', '?')}ms"
            )
        return " | ".join(parts)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(1.0):
            n += 1
            changed = False
            for i in range(len(self.servers)):
                new = self._poll(i)
                old = self.last[i]
                if new.get("term") != old.get("term") or new.get("leader") != old.get("leader"):
                    changed = bool(old)
                if "term" in new or not old:
                    self.last[i] = new
            if changed or n % 10 == 0:
                print(("  raft change: " if changed else "  raft: ") + self.line(), flush=True)

    def report(self) -> str:
        return "raft at the end: " + "; ".join(
            f"s{i} term {r.get('term', '?')}, {r.get('elections', '?')} elections started, "
            f"longest Raft tick pause {r.get('max_tick_gap_ms', '?')} ms "
            f"({r.get('long_ticks', '?')} longer than the election timeout; without applies "
            f"{r.get('max_tick_wait_ms', '?')} ms; longest apply {r.get('max_apply_ms', '?')} ms; "
            f"longest log compaction step {r.get('max_compaction_ms', '?')} ms)"
            for i, r in enumerate(self.last)
        )


async def run_dev(args: argparse.Namespace) -> None:
    from nomadic.server import Server, ServerConfig, gc_policy

    gc_policy.install()  # as `nomadic agent` does for a server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(ServerConfig(raft_port=port, node_name="c1m", num_schedulers=args.schedulers))
    await server.start()
    await server.wait_for_leader(30)

    async def register(job: Job) -> None:
        await server.job_register(job)

    try:
        await drive(args, server.local_rpc(), register, [os.getpid()])
    finally:
        await server.shutdown()


async def run_cluster(args: argparse.Namespace) -> None:
    from nomadic.rpc.client import GrpcServerRPC, RPCPool
    from nomadic.testing.agent_process import AgentProcess, wait_for

    root = Path(tempfile.mkdtemp(prefix="c1m-"))
    print(f"server data dirs and logs: {root}/server{{0,1,2}} (agent.log)", flush=True)
    servers = [AgentProcess(root / f"server{i}", dev=False) for i in range(3)]
    join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in servers])
    for s in servers:
        with s.config_path.open("a") as f:
            f.write(
                f'name = "{s.workdir.name}"\nlog_level = "WARN"\nserver {{\n  enabled = true\n'
                f"  bootstrap_expect = 3\n  raft_multiplier = {args.raft_multiplier}\n"
                f"  server_join {{\n    retry_join = {join}\n  }}\n}}\n"
            )
    for s in servers:
        s.start(wait_ready=False)
    try:

        def leader() -> bool:
            try:
                return all(bool(s.get("/v1/status/leader")) for s in servers)
            except RuntimeError:
                return False

        wait_for(leader, timeout=90, interval=0.2, what="a cluster leader")
        addrs = [f"127.0.0.1:{s.rpc_port}" for s in servers]
        pool = RPCPool()
        rpc = GrpcServerRPC(addrs, pool)

        async def register(job: Job) -> None:
            await pool.call(
                addrs[0],
                "Job.Register",
                JobRegisterRequest(job=job),
                JobRegisterResponse,
                timeout=60,
            )

        pids = [s.proc.pid for s in servers if s.proc is not None]
        with RaftWatch(servers) as watch:
            try:
                await drive(args, rpc, register, pids)
            finally:
                print(watch.report(), flush=True)
        await rpc.close()
    finally:
        for s in servers:
            s.stop()


async def drive(args: argparse.Namespace, rpc: Any, register: Any, pids: list[int]) -> None:
    total = args.jobs * args.count
    progress = Progress(total)
    gc_timer = GCTimer()
    sim = SimClients(rpc, args.nodes, on_ack=progress.add)
    t0 = time.monotonic()
    await sim.start()
    print(f"{args.nodes:,} simulated nodes registered in {time.monotonic() - t0:.1f}s", flush=True)
    jobs = [c1m_job(i, args.count, args.cpu, args.memory) for i in range(args.jobs)]
    sem = asyncio.Semaphore(SUBMIT_CONCURRENCY)

    async def submit(job: Job) -> None:
        # A real `job run` reports a failed registration; here a lost job would only show as
        # acks that never come, so retry a few times and then stop the benchmark loudly.
        async with sem:
            for attempt in range(5):
                try:
                    await register(job)
                    return
                except Exception as exc:
                    if attempt == 4:
                        raise RuntimeError(f"registering {job.id} failed 5 times: {exc}") from exc
                    print(f"  registering {job.id} failed ({exc}); retrying", flush=True)
                    await asyncio.sleep(1.0 + attempt)

    print(f"submitting {args.jobs:,} jobs x {args.count:,} allocations = {total:,}", flush=True)
    with RSSWatch(pids) as rss:
        rss.sample()
        cpu_before = rss.cpu
        progress.start = time.monotonic()
        submitted = asyncio.ensure_future(asyncio.gather(*(submit(j) for j in jobs)))
        finished = asyncio.ensure_future(progress.finished.wait())
        deadline = progress.start + args.timeout
        waiting = {finished, submitted}
        while not finished.done() and time.monotonic() < deadline:
            done, waiting = await asyncio.wait(
                waiting, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED
            )
            if submitted in done and submitted.exception() is not None:
                break  # a job was not registered: its acks would never come
        if not finished.done():
            failed = submitted.done() and submitted.exception() is not None
            print("a job registration failed" if failed else f"timed out after {args.timeout:.0f}s")
            finished.cancel()
        elapsed = time.monotonic() - progress.start
        await submitted
    await sim.stop()
    progress.report(elapsed)
    beats = sum(n.beats for n in sim.nodes)
    print(
        f"sim heartbeats: {beats:,}, slowest call {sim.slowest_beat:.1f}s, "
        f"longest wait to send one {sim.beat_lag:.1f}s"
    )
    used = rss.cpu - cpu_before
    per = used / max(progress.done, 1) * 1e6
    print(f"server CPU time: {used:.1f}s ({per:.0f} us per placement)")
    if not args.cluster:
        print(gc_timer.report())
    print(
        f"peak server RSS: {rss.peak / 2**20:,.0f} MiB"
        + (
            " (in-process: includes the simulated clients)"
            if not args.cluster
            else " (sum of 3 servers)"
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--nodes", type=int, default=5000)
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--count", type=int, default=1000, help="allocations per job")
    p.add_argument("--cpu", type=int, default=50, help="MHz per allocation")
    p.add_argument("--memory", type=int, default=100, help="MB per allocation")
    p.add_argument("--schedulers", type=int, default=None, help="scheduler workers (dev)")
    p.add_argument("--cluster", action="store_true", help="3 server processes on loopback")
    p.add_argument(
        "--raft-multiplier",
        type=int,
        default=1,
        help="--cluster: the servers' raft_multiplier (election timeout 1-2 s x this)",
    )
    p.add_argument("--timeout", type=float, default=1800.0)
    p.add_argument("--profile", metavar="FILE", help="cProfile the in-process run into FILE")
    args = p.parse_args()
    mode = "3-server loopback cluster" if args.cluster else "in-process dev server"
    print(
        f"C1M shape on a {mode}: {args.nodes:,} nodes, {args.jobs:,} jobs x {args.count:,}",
        flush=True,
    )
    if args.cluster:
        asyncio.run(run_cluster(args))
        return
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(run_dev(args))
        prof.disable()
        prof.dump_stats(args.profile)
        return
    asyncio.run(run_dev(args))


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()
