"""How fast does a dev agent turn `nomadic job run` into a running task, and a stop into a
dead process?  Prints the medians (and spread) of N runs on a real `nomadic agent -dev`.

Two paths are timed: through the CLI (a fresh `nomadic` process that parses the HCL file,
as a user runs it) and straight through the HTTP API with the job already parsed (the
server -> scheduler -> client -> driver path alone).

    uv run python benchmarks/dev_latency.py [-n 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from nomadic.jobspec import parse_file
from nomadic.structs import to_builtins
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


def one_run(agent: AgentProcess, workdir: Path, i: int, *, via_cli: bool) -> tuple[float, float]:
    name = f"bench-{'cli' if via_cli else 'http'}-{i}"
    pidfile = workdir / f"{name}.pid"
    spec = workdir / f"{name}.hcl"
    spec.write_text(JOB.format(name=name, pidfile=pidfile))
    body = {"Job": to_builtins(parse_file(str(spec)))}

    start = time.perf_counter()
    if via_cli:
        agent.cli("job", "run", "-detach", str(spec), check=True)
    else:
        status, reply = agent.request("PUT", "/v1/jobs", body)
        assert status == 200, reply
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
    if via_cli:
        agent.cli("job", "stop", "-purge", "-detach", name, check=True)
    else:
        status, reply = agent.request("DELETE", f"/v1/job/{name}?purge=true")
        assert status == 200, reply

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
        f"{label:<34} median {statistics.median(ms):8.1f} ms   "
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
            cli = [one_run(agent, workdir, i, via_cli=True) for i in range(args.n)]
            http = [one_run(agent, workdir, i, via_cli=False) for i in range(args.n)]
        finally:
            agent.stop()
    print(describe("CLI  job run -> task running", [r[0] for r in cli]))
    print(describe("CLI  job stop -> process gone", [r[1] for r in cli]))
    print(describe("HTTP register -> task running", [r[0] for r in http]))
    print(describe("HTTP deregister -> process gone", [r[1] for r in http]))


if __name__ == "__main__":
    main()
