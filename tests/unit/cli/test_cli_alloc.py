"""``nomadic alloc status/logs/stop`` against a real HTTP app over fakes."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import msgspec
from cli_agent import Agent, scrub
from http_fakes import web_job

from nomadic.structs import Allocation, AllocUpdate


def place(agent: Agent, tmp_path: Path, tasks: tuple[str, ...] = ("server",)) -> Allocation:
    agent.server.add_node()
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"Job": web_job(tasks=tasks)}))
    assert agent.run("job", "run", "-detach", str(path)).exit_code == 0
    alloc = agent.server.store.snapshot().allocs()[0]
    agent.client.make_alloc_dir(alloc.id)  # the client runs it
    return alloc


def write_log(agent: Agent, alloc: Allocation, name: str, data: bytes) -> Path:
    root = agent.client.make_alloc_dir(alloc.id)
    path = root / "alloc" / "logs" / name
    path.write_bytes(data)
    return path


def test_alloc_status_shows_fields_and_task_events(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    result = agent.run("alloc", "status", alloc.id[:8])
    assert result.exit_code == 0, result.output
    raw = result.output.splitlines()
    lines = scrub(result.output).splitlines()
    assert lines[0] == f"ID                  = {alloc.id[:8]}"
    assert lines[2] == "Name                = web.web[0]"
    assert lines[7] == "Client Status       = running"
    assert lines[8] == "Client Description  = <none>"
    assert lines[9] == "Desired Status      = run"
    assert lines[13:] == [
        "",
        'Task "server" is "running"',
        "Task Resources:",
        "CPU      Memory  Disk",
        "100 MHz  64 MiB  300 MiB",
        "",
        "Task Events:",
        "Started At     = <time>",
        "Finished At    = N/A",
        "Total Restarts = 0",
        "Last Restart   = N/A",
        "",
        "Recent Events:",
        *lines[26:],
    ]
    width = len(raw[27].split("  ")[0])  # a timestamp: 20 characters in UTC, 25 elsewhere
    assert raw[26:] == [
        "Time".ljust(width) + "  Type      Description",
        raw[27][:width] + "  Started   Task started by client",
        raw[28][:width] + "  Received  Task received by client",
    ]
    assert lines[27].startswith("<time>") and lines[28].startswith("<time>")


def test_alloc_status_errors(agent: Agent) -> None:
    result = agent.run("alloc", "status", "a")
    assert (result.exit_code, result.output) == (
        1,
        "Alloc ID must contain at least two characters.\n",
    )
    result = agent.run("alloc", "status", "abcd")
    assert (result.exit_code, result.output) == (
        1,
        'No allocation(s) with prefix or id "abcd" found\n',
    )


def test_alloc_logs_implies_the_only_task(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    write_log(agent, alloc, "server.stdout.0", b"hello\n")
    write_log(agent, alloc, "server.stdout.1", b"world\n")
    write_log(agent, alloc, "server.stderr.0", b"oops\n")
    result = agent.run("alloc", "logs", alloc.id[:8])
    assert (result.exit_code, result.output) == (0, "hello\nworld\n")
    result = agent.run("alloc", "logs", "-stderr", alloc.id[:8], "server")
    assert (result.exit_code, result.output) == (0, "oops\n")
    result = agent.run("logs", "-task=server", alloc.id)
    assert result.output == "hello\nworld\n"


def test_alloc_logs_tail_defaults_to_ten_lines(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    text = "".join(f"line {i}\n" for i in range(1, 31))
    write_log(agent, alloc, "server.stdout.0", text[:100].encode())
    write_log(agent, alloc, "server.stdout.1", text[100:].encode())
    result = agent.run("alloc", "logs", "-tail", alloc.id)
    assert result.output == "".join(f"line {i}\n" for i in range(21, 31))
    result = agent.run("alloc", "logs", "-tail", "-n", "3", alloc.id)
    assert result.output == "line 28\nline 29\nline 30\n"
    result = agent.run("alloc", "logs", "-tail", "-n=2", alloc.id)
    assert result.output == "line 29\nline 30\n"
    result = agent.run("alloc", "logs", "-tail", "-c", "10", alloc.id)
    assert result.output == "9\nline 30\n"


def test_alloc_logs_with_several_tasks_asks_which(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path, tasks=("api", "sidecar"))
    result = agent.run("alloc", "logs", alloc.id)
    assert result.exit_code == 1
    assert result.output == (
        f'Allocation "{alloc.id[:8]}" is running the following tasks:\n'
        "  * api\n  * sidecar\n\nPlease specify the task.\n"
    )


def test_alloc_logs_follow_streams_until_the_alloc_ends(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    log = write_log(agent, alloc, "server.stdout.0", b"start\n")

    def finish_later() -> None:
        # Runs while the CLI follows (or before it connects: either way nothing may be lost).
        with log.open("ab") as f:
            f.write(b"more\n")
        (log.parent / "server.stdout.1").write_bytes(b"rotated\n")
        done = msgspec.structs.replace(alloc, client_status="complete")
        update = AllocUpdate(id=done.id, client_status="complete", task_states=done.task_states)
        agent.server.write(lambda i: agent.server.store.update_allocs_from_client(i, [update]))

    writer = threading.Thread(target=finish_later)
    writer.start()
    result = agent.run("alloc", "logs", "-f", alloc.id)
    writer.join(10)
    assert result.exit_code == 0
    assert result.output == "start\nmore\nrotated\n"


def test_alloc_stop_monitors_the_eval(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    agent.server.auto_schedule = False
    result = agent.run("alloc", "stop", "-detach", alloc.id[:8])
    assert result.exit_code == 0
    assert re.fullmatch(r"[0-9a-f-]{36}\n", result.output)
