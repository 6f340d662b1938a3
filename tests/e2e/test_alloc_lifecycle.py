"""``alloc exec``, ``alloc signal``, ``alloc restart`` and ``alloc status`` usage on a real
dev agent running a raw_exec task, driven through the CLI as a user would."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "lifecycle" {{
  group "app" {{
    restart {{
      attempts = 0
      mode     = "fail"
    }}
    task "worker" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", "{script}"]
      }}
      resources {{
        cpu    = 50
        memory = 32
      }}
    }}
  }}
}}
"""

# One line in the pidfile per start; prints when it receives SIGUSR1.
SCRIPT = "echo $$ >> {pidfile}; trap 'echo got USR1' USR1; while true; do sleep 0.1; done"


def pids(pidfile: Path) -> list[int]:
    return [int(x) for x in pidfile.read_text().split()] if pidfile.exists() else []


@pytest.fixture(scope="module")
def running(
    dev_agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The allocation of a running service task (restart policy: no restarts) and its
    pidfile, which gets one line per start."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    pidfile = tmp / "pids"
    job = tmp / "lifecycle.hcl"
    job.write_text(textwrap.dedent(JOB.format(script=SCRIPT.format(pidfile=pidfile))))
    dev_agent.cli("job", "run", str(job), check=True)
    wait_for(lambda: pids(pidfile), what="the task to start")
    allocs: list[dict[str, Any]] = dev_agent.get("/v1/job/lifecycle/allocations")
    yield allocs[0]["ID"], pidfile
    dev_agent.cli("job", "stop", "-purge", "lifecycle")


def task_state(agent: AgentProcess, alloc_id: str) -> dict[str, Any]:
    state: dict[str, Any] = agent.get(f"/v1/allocation/{alloc_id}")["TaskStates"]["worker"]
    return state


def test_exec_runs_in_the_task_environment(
    dev_agent: AgentProcess, running: tuple[str, Path]
) -> None:
    alloc_id, _ = running
    result = dev_agent.cli(
        "alloc", "exec", "-i=false", alloc_id[:8],
        "/bin/sh", "-c", 'echo "$NOMAD_ALLOC_ID"; pwd; echo oops >&2; exit 7',
    )  # fmt: skip
    assert result.returncode == 7, result.stderr
    alloc_line, cwd = result.stdout.splitlines()
    assert alloc_line == alloc_id
    assert cwd.endswith(f"/{alloc_id}/worker/local")
    assert result.stderr == "oops\n"


def test_exec_passes_stdin_and_command_flags(
    dev_agent: AgentProcess, running: tuple[str, Path]
) -> None:
    alloc_id, _ = running
    result = subprocess.run(
        [*dev_agent.command, "exec", "-task", "worker", alloc_id, "/bin/sh", "-c", "cat; ls -d ."],
        input="hello exec\n",
        capture_output=True,
        text=True,
        env=dev_agent.env(),
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, "hello exec\n.\n"), result.stderr


def test_exec_errors_are_explained(dev_agent: AgentProcess, running: tuple[str, Path]) -> None:
    alloc_id, _ = running
    result = dev_agent.cli("alloc", "exec", alloc_id, "/no/such/program")
    assert result.returncode == 1
    assert "failed to exec into task" in result.stderr and "/no/such/program" in result.stderr
    result = dev_agent.cli("alloc", "exec", "-task", "nope", alloc_id, "true")
    assert result.returncode == 1 and "nope" in result.stderr


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got {bytes(seen)!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # EIO: the CLI exited
                raise AssertionError(f"CLI ended before {needle!r}; got {bytes(seen)!r}") from None


def test_interactive_exec_through_a_pty(dev_agent: AgentProcess, running: tuple[str, Path]) -> None:
    """A user at a terminal: -t is the default, the remote side has a terminal too, keys
    typed reach the shell, and the CLI exits with the shell's exit code."""
    alloc_id, _ = running
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*dev_agent.command, "alloc", "exec", alloc_id, "/bin/sh"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**dev_agent.env(), "PS1": "$ "},
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        os.write(master, b"tty; echo answer=$((6 * 7))\n")
        read_until(master, b"answer=42", seen)
        assert b"/dev/pts/" in seen  # the remote command runs on a pseudo-terminal
        os.write(master, b"exit 3\n")
        assert proc.wait(30) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_signal_reaches_a_task_that_traps_it(
    dev_agent: AgentProcess, running: tuple[str, Path]
) -> None:
    alloc_id, _ = running
    dev_agent.cli("alloc", "signal", "-s", "SIGUSR1", alloc_id, "worker", check=True)

    def logged() -> bool:
        return "got USR1" in dev_agent.cli("alloc", "logs", alloc_id, "worker").stdout

    wait_for(logged, what="the trap's output in the task's logs")
    events = [e["Type"] for e in task_state(dev_agent, alloc_id)["Events"]]
    assert "Signaling" in events
    status = dev_agent.cli("alloc", "status", alloc_id, check=True).stdout
    assert "Task being sent signal SIGUSR1" in status


def test_restart_starts_a_new_process_without_using_the_policy(
    dev_agent: AgentProcess, running: tuple[str, Path]
) -> None:
    """The policy allows no restarts, yet a user restart restarts the task, twice."""
    alloc_id, pidfile = running
    for n in (2, 3):
        dev_agent.cli("alloc", "restart", alloc_id, check=True)
        wait_for(lambda n=n: len(pids(pidfile)) == n, what=f"start number {n}")  # type: ignore[misc]
        wait_for(
            lambda: task_state(dev_agent, alloc_id)["State"] == "running",
            what="the task to run again",
        )
    first, second, third = pids(pidfile)
    assert len({first, second, third}) == 3
    state = task_state(dev_agent, alloc_id)
    events = [(e["Type"], e["DisplayMessage"]) for e in state["Events"]]
    assert ("Restart Signaled", "User requested running tasks to restart") in events
    assert ("Restarting", "Task restarting in 0s") in events
    assert not state["Failed"]
    alloc = dev_agent.get(f"/v1/allocation/{alloc_id}")
    assert alloc["ClientStatus"] == "running"
    result = dev_agent.cli("alloc", "restart", "-all-tasks", alloc_id, "worker")
    assert result.returncode == 1
    assert result.stderr == (
        "The -all-tasks option is not allowed when restarting a specific task.\n"
    )


def test_status_shows_measured_usage(dev_agent: AgentProcess, running: tuple[str, Path]) -> None:
    alloc_id, _ = running
    wait_for(lambda: task_state(dev_agent, alloc_id)["State"] == "running", what="the task to run")
    out = dev_agent.cli("alloc", "status", "-stats", alloc_id, check=True).stdout
    lines = out.splitlines()
    header = lines.index("Task Resources:")
    assert lines[header + 1].split() == ["CPU", "Memory", "Disk"]
    row = re.fullmatch(r"\d+/50 MHz +([\d.]+) (B|KiB|MiB)/32 MiB +\d+ MiB", lines[header + 2])
    assert row is not None, lines[header + 2]
    assert float(row.group(1)) > 0 and row.group(2) != "B"
    stats = lines.index("Memory Stats")
    assert lines[stats + 1].split() == ["RSS"]
    assert lines[stats + 2].endswith(("KiB", "MiB"))
    assert "CPU Stats" in lines
