"""How fast does a dev agent turn `nomadic job run` into a running task, and a stop into a
dead process?  Prints the medians (and spread) of N runs on a real `nomadic agent -dev`.

    uv run python benchmarks/dev_latency.py [-n 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from nomadic.testing.agent_process import AgentProcess, wait_for

JOB = """
job "{name}" {{
  group "g" {{
    task "t" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", "echo $$ > {pidfile}; exec sleep 600"]
      }}
      kill_timeout = "5s"
      resources {{
        cpu    = 10
        memory = 16
      }}
    }}
  }}
}}
"""


def one_run(agent: AgentProcess, workdir: Path, i: int) -> tuple[float, float]:
    name = f"bench-{i}"
    pidfile = workdir / f"{name}.pid"
    spec = workdir / f"{name}.hcl"
    spec.write_text(JOB.format(name=name, pidfile=pidfile))

    start = time.perf_counter()
    agent.cli("job", "run", "-detach", str(spec), check=True)
    wait_for(
        lambda: any(
            a["ClientStatus"] == "running" for a in agent.get(f"/v1/job/{name}/allocations")
        ),
        timeout=60,
        interval=0.005,
        what=f"{name} running",
    )
    to_running = time.perf_counter() - start

    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))
    start = time.perf_counter()
    agent.cli("job", "stop", "-purge", "-detach", name, check=True)

    def gone() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(gone, timeout=60, interval=0.005, what=f"{name} process gone")
    return to_running, time.perf_counter() - start


def describe(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return (
        f"{label:<32} median {statistics.median(ms):8.1f} ms   "
        f"min {ms[0]:8.1f}   max {ms[-1]:8.1f}   (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="runs (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        agent = AgentProcess(workdir).start()
        try:
            results = [one_run(agent, workdir, i) for i in range(args.n)]
        finally:
            agent.stop()
    print(describe("job run -> task running", [r[0] for r in results]))
    print(describe("job stop -> process gone", [r[1] for r in results]))


if __name__ == "__main__":
    main()
