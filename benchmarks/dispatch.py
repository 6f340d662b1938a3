"""How fast does a dev agent run many tiny batch jobs?  Dispatches N children of a
parameterized raw_exec job (`/bin/true`) through the HTTP API on a real `nomadic agent -dev`
and prints the time until every child is complete, and dispatches per second.

    uv run python benchmarks/dispatch.py [-n 1000] [--parallel 8]

Target (issue 7): 1,000 dispatches complete in under 30 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from nomadic.jobspec import parse_file
from nomadic.structs import to_builtins
from nomadic.testing.agent_process import AgentProcess, wait_for

JOB = """
job "tiny" {
  type = "batch"
  parameterized {
    payload = "forbidden"
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
      resources {
        cpu    = 10
        memory = 10
      }
    }
  }
}
"""


def dispatch(agent: AgentProcess, _i: int) -> float:
    start = time.perf_counter()
    status, reply = agent.request("POST", "/v1/job/tiny/dispatch", {"Meta": {}})
    assert status == 200, reply
    return time.perf_counter() - start


def children_summary(agent: AgentProcess) -> dict[str, Any]:
    summary: dict[str, Any] = agent.get("/v1/job/tiny/summary")["Children"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="how many jobs to dispatch")
    parser.add_argument("--parallel", type=int, default=8, help="concurrent HTTP dispatchers")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the agent's main thread")
    args = parser.parse_args()
    command: tuple[str, ...] = (sys.executable, "-m", "nomadic")
    if args.profile:
        command = (sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "nomadic")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        agent = AgentProcess(workdir / "agent", command=command).start()
        try:
            spec = workdir / "tiny.hcl"
            spec.write_text(JOB)
            body = {"Job": to_builtins(parse_file(str(spec)))}
            status, reply = agent.request("PUT", "/v1/jobs", body)
            assert status == 200, reply

            start = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                latencies = sorted(pool.map(lambda i: dispatch(agent, i), range(args.n)))
            dispatched = time.perf_counter() - start
            wait_for(
                lambda: children_summary(agent)["Dead"] >= args.n,
                timeout=600,
                interval=0.2,
                what=f"{args.n} dispatched jobs to complete",
            )
            done = time.perf_counter() - start
            failed = [
                s["ID"]
                for s in agent.get("/v1/jobs?prefix=tiny/")
                if s["JobSummary"] and any(c["Failed"] for c in s["JobSummary"]["Summary"].values())
            ]
        finally:
            agent.stop()
    print(
        f"dispatched {args.n} jobs in {dispatched:.2f} s ({args.n / dispatched:.0f} dispatches/s)"
    )
    print(
        f"dispatch latency p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )
    print(f"all {args.n} complete after {done:.2f} s (target < 30 s); failed: {len(failed)}")


if __name__ == "__main__":
    main()
