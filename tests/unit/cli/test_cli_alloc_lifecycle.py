"""``nomadic alloc signal/restart/exec`` and ``alloc status -stats`` against a real HTTP app
over fakes: exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_agent import Agent
from http_fakes import web_job

from nomadic.cli.registry import normalize_args
from nomadic.structs import Allocation


def place(agent: Agent, tmp_path: Path, tasks: tuple[str, ...] = ("server",)) -> Allocation:
    agent.server.add_node()
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"Job": web_job(tasks=tasks)}))
    assert agent.run("job", "run", "-detach", str(path)).exit_code == 0
    alloc = agent.server.store.snapshot().allocs()[0]
    agent.client.make_alloc_dir(alloc.id)
    return alloc


def test_signal_defaults_to_sigkill_and_all_tasks(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    assert (agent.run("alloc", "signal", alloc.id[:8]).exit_code) == 0
    result = agent.run("alloc", "signal", "-s", "SIGUSR1", "-task", "server", alloc.id)
    assert (result.exit_code, result.output) == (0, "")
    assert agent.run("alloc", "signal", "-s=SIGHUP", alloc.id, "server").exit_code == 0
    assert agent.client.signals == [
        (alloc.id, "", "SIGKILL"),
        (alloc.id, "server", "SIGUSR1"),
        (alloc.id, "server", "SIGHUP"),
    ]


def test_signal_unknown_task_lists_the_tasks(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path, tasks=("api", "sidecar"))
    result = agent.run("alloc", "signal", alloc.id, "web")
    assert (result.exit_code, result.output) == (
        1,
        "Could not find task named: web, found:\napi\nsidecar\n",
    )
    assert agent.client.signals == []


def test_restart_running_tasks_one_task_or_all(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    assert agent.run("alloc", "restart", alloc.id).exit_code == 0
    assert agent.run("alloc", "restart", alloc.id, "server").exit_code == 0
    assert agent.run("alloc", "restart", "-all-tasks", alloc.id).exit_code == 0
    assert agent.client.restarts == [
        (alloc.id, "", False),
        (alloc.id, "server", False),
        (alloc.id, "", True),
    ]


def test_restart_errors(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path, tasks=("server", "stopped"))
    result = agent.run("alloc", "restart", "-all-tasks", "-task", "server", alloc.id)
    assert (result.exit_code, result.output) == (
        1,
        "The -all-tasks option is not allowed when restarting a specific task.\n",
    )
    result = agent.run("alloc", "restart", alloc.id, "stopped")
    assert (result.exit_code, result.output) == (
        1,
        "Failed to restart task:\n\n"
        "Unexpected response code: 400 (Task not running: task 'stopped' is dead)\n",
    )
    result = agent.run("alloc", "restart", "zz")
    assert (result.exit_code, result.output) == (
        1,
        'No allocation(s) with prefix or id "zz" found\n',
    )


def test_exec_runs_the_command_and_exits_with_its_code(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    script = 'cat; echo "in $NOMAD_TASK_NAME"; ls -d -- .; exit 5'
    result = agent.run("alloc", "exec", alloc.id[:8], "/bin/sh", "-c", script, input="hi\n")
    assert (result.exit_code, result.output) == (5, "hi\nin server\n.\n")
    result = agent.run("exec", "-i=false", "-task=server", alloc.id, "/bin/sh", "-c", "cat")
    assert (result.exit_code, result.output) == (0, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "An allocation ID is required"),
        (("-job",), "A job ID is required"),
        (("a", "ls"), "Alloc ID must contain at least two characters"),
        (("abcd",), "A command is required"),
        (("-t", "-i=false", "abcd", "ls"), "-i must be enabled if running with tty"),
        (("-x", "abcd", "ls"), "flag provided but not defined: -x"),
        (("-t=maybe", "abcd", "ls"), 'invalid boolean value "maybe" for -t'),
        (("abcd", "ls"), 'No allocation(s) with prefix or id "abcd" found'),
    ],
    ids=["no-alloc", "no-job", "short-id", "no-command", "tty-no-stdin", "bad-flag", "bad-bool",
         "unknown-alloc"],
)  # fmt: skip
def test_exec_usage_errors(agent: Agent, args: tuple[str, ...], message: str) -> None:
    result = agent.run("alloc", "exec", *args)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == message


def test_exec_with_several_tasks_asks_which(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path, tasks=("api", "sidecar"))
    result = agent.run("alloc", "exec", alloc.id, "true")
    assert (result.exit_code, result.output) == (
        1,
        f'Allocation "{alloc.id[:8]}" is running the following tasks:\n'
        "  * api\n  * sidecar\n\nPlease specify the task.\n",
    )


def test_exec_reports_the_agents_reason(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path, tasks=("server", "stopped"))
    result = agent.run("alloc", "exec", "-task", "stopped", alloc.id, "true")
    assert (result.exit_code, result.output) == (
        1,
        "failed to exec into task: Task not running: task 'stopped' is dead\n",
    )


def test_command_line_after_the_alloc_reaches_exec_untouched() -> None:
    args = ["alloc", "exec", "-task", "web", "abcd", "ls", "-la", "--color=never"]
    assert normalize_args(args) == args
    assert normalize_args(["alloc", "logs", "-tail", "x"]) == ["alloc", "logs", "--tail", "x"]


def test_status_shows_usage_against_limits_and_stats(agent: Agent, tmp_path: Path) -> None:
    alloc = place(agent, tmp_path)
    agent.client.task_usage["server"] = {
        "ResourceUsage": {
            "MemoryStats": {"RSS": 2202009, "Measured": ["RSS"]},
            "CpuStats": {
                "TotalTicks": 12.7,
                "Percent": 3.25,
                "UserMode": 2.5,
                "SystemMode": 0.75,
                "Measured": ["System Mode", "User Mode", "Percent"],
            },
        },
        "Timestamp": 1,
    }
    result = agent.run("alloc", "status", alloc.id)
    lines = result.output.splitlines()
    start = lines.index("Task Resources:")
    assert lines[start + 1 : start + 3] == [
        "CPU         Memory          Disk",
        "12/100 MHz  2.1 MiB/64 MiB  300 MiB",
    ]
    assert "Memory Stats" not in lines
    result = agent.run("alloc", "status", "-stats", alloc.id)
    lines = result.output.splitlines()
    start = lines.index("Task Resources:")
    assert lines[start + 1 : start + 11] == [
        "CPU         Memory          Disk",
        "12/100 MHz  2.1 MiB/64 MiB  300 MiB",
        "",
        "Memory Stats",
        "RSS",
        "2.1 MiB",
        "",
        "CPU Stats",
        "Percent  System Mode  User Mode",
        "3.25%    0.75%        2.50%",
    ]
