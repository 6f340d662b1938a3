"""``node status``, ``server members``, ``eval status``, ``status``, ``version`` and flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_agent import Agent
from click.testing import CliRunner
from http_fakes import web_job

from nomadic.cli.main import cli
from nomadic.cli.registry import normalize_args
from nomadic.structs import AllocMetric


def test_node_status_list_and_detail(agent: Agent, tmp_path: Path) -> None:
    assert agent.run("node", "status").output == "No nodes registered\n"
    node = agent.server.add_node("alpha")
    result = agent.run("node", "status")
    assert result.output.splitlines() == [
        "ID        Node Pool  DC   Name   Class   Drain  Eligibility  Status",
        f"{node.id[:8]}  default    dc1  alpha  <none>  false  eligible     ready",
    ]
    result = agent.run("node", "status", node.id[:6])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:14] == [
        f"ID            = {node.id[:8]}",
        "Name          = alpha",
        "Node Pool     = default",
        "Class         = <none>",
        "DC            = dc1",
        "Drain         = false",
        "Eligibility   = eligible",
        "Status        = ready",
        "Address       = 127.0.0.1",
        "Driver Status = raw_exec",
        "",
        "Allocated Resources",
        "CPU      Memory       Disk",
        "0/0 MHz  0 MiB/0 MiB  0 MiB/0 MiB",
    ]
    assert result.output.endswith("Allocations\nNo allocations placed\n")
    verbose = agent.run("node", "status", "-verbose", node.id)
    assert f"ID            = {node.id}\n" in verbose.output
    assert "Attributes\nnomad.version" in verbose.output


def test_server_members(agent: Agent) -> None:
    result = agent.run("server", "members")
    assert result.output.splitlines() == [
        "Name          Address    Port  Status  Leader  Raft Version  Build  Datacenter  Region",
        "node1.global  127.0.0.1  4648  alive   true    3             0.1.0  dc1         global",
    ]


def test_server_join(agent: Agent) -> None:
    result = agent.run("server", "join", "10.0.0.9", "10.0.0.10:4700")
    assert result.exit_code == 0, result.output
    assert result.output == "Joined 2 servers successfully\n"
    assert agent.server.joined == ["10.0.0.9", "10.0.0.10:4700"]
    result = agent.run("server", "join")
    assert result.exit_code == 2  # an address is required


def test_server_force_leave(agent: Agent) -> None:
    result = agent.run("server", "force-leave", "node2.global")
    assert (result.exit_code, result.output) == (0, "")
    result = agent.run("server", "force-leave", "ghost.us")
    assert result.exit_code == 1
    assert result.output == (
        "Error force-leaving server ghost.us: Unexpected response code: 404 (no server named "
        "'ghost.us' is known; see nomadic server members)\n"
    )
    assert agent.server.left == ["node2.global", "ghost.us"]


def test_operator_raft_remove_peer_errors(agent: Agent) -> None:
    result = agent.run("operator", "raft", "remove-peer")
    assert result.exit_code == 1
    assert result.output == "Must specify exactly one of -peer-address and -peer-id\n"
    result = agent.run("operator", "raft", "remove-peer", "-peer-id", "10.0.0.9:4648")
    assert result.exit_code == 1
    assert result.output == (
        "Error removing peer: Unexpected response code: 404 (10.0.0.9:4648 is not a Raft "
        "peer; `operator raft list-peers` shows the peers)\n"
    )


def test_eval_status_with_placement_failures(agent: Agent, tmp_path: Path) -> None:
    agent.server.fail_placement = {"web": AllocMetric(nodes_evaluated=0, coalesced_failures=2)}
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"Job": web_job()}))
    assert agent.run("job", "run", str(path)).exit_code == 2
    ev = agent.server.store.snapshot().evals()[0]
    result = agent.run("eval", "status", ev.id[:8])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"ID                 = {ev.id[:8]}"
    assert lines[3:] == [
        "Status             = complete",
        "Status Description = complete",
        "Type               = service",
        "TriggeredBy        = job-register",
        "Job ID             = web",
        "Namespace          = default",
        "Priority           = 50",
        "Placement Failures = true",
        "",
        "Failed Placements",
        'Task Group "web" (failed to place 3 allocations):',
        "  * No nodes were eligible for evaluation",
        "",
        f'Evaluation "{ev.blocked_eval[:8]}" waiting for additional capacity to place remainder',
    ]
    status = agent.run("job", "status", "web")
    assert 'Placement Failure\nTask Group "web":\n  * No nodes were eligible' in status.output


def test_top_level_status_finds_any_resource(agent: Agent, tmp_path: Path) -> None:
    node = agent.server.add_node()
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"Job": web_job()}))
    agent.run("run", "-detach", str(path))
    alloc = agent.server.store.snapshot().allocs()[0]
    assert agent.run("status").output.startswith("ID   Type     Priority  Status   Submit Date\n")
    assert agent.run("status", "web").output.startswith("ID            = web\n")
    assert agent.run("status", alloc.id[:8]).output.startswith(
        f"ID                  = {alloc.id[:8]}"
    )
    if not alloc.id.startswith(node.id[:2]):
        assert agent.run("status", node.id[:8]).output.startswith(f"ID            = {node.id[:8]}")
    missing = agent.run("status", "zzzz")
    assert (missing.exit_code, missing.output) == (1, 'No matches returned for query "zzzz"\n')


def test_version() -> None:
    result = CliRunner().invoke(cli, ["version"])
    assert (result.exit_code, result.output) == (0, "nomadic v0.1.0\n")
    assert CliRunner().invoke(cli, ["-version"]).output == "nomadic v0.1.0\n"


def test_single_dash_address_flag_selects_the_agent(agent: Agent) -> None:
    agent.server.add_node("alpha")
    result = CliRunner().invoke(
        cli,
        ["node", "status", f"-address={agent.address}"],
        env={"NOMAD_ADDR": "http://127.0.0.1:1"},
    )
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output
    result = CliRunner().invoke(cli, ["node", "status", "-address", agent.address])
    assert "alpha" in result.output


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["job", "run", "-detach", "x.hcl"], ["job", "run", "--detach", "x.hcl"]),
        (["-address=http://a:1", "-var", "k=v"], ["--address=http://a:1", "--var", "k=v"]),
        (["alloc", "logs", "-f", "-n", "20", "a"], ["alloc", "logs", "-f", "-n", "20", "a"]),
        (["alloc", "logs", "-n=20"], ["alloc", "logs", "-n", "20"]),
        (["job", "stop", "--purge", "web"], ["job", "stop", "--purge", "web"]),
        (["run", "--", "-detach"], ["run", "--", "-detach"]),
        (["run", "-"], ["run", "-"]),
    ],
    ids=["long", "equals-and-value", "short", "short-equals", "double-dash", "separator", "stdin"],
)
def test_normalize_args(argv: list[str], expected: list[str]) -> None:
    assert normalize_args(argv) == expected


def test_unknown_command_and_help() -> None:
    result = CliRunner().invoke(cli, ["job", "frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output
    help_text = CliRunner().invoke(cli, ["-help"]).output
    for noun in ("alloc", "eval", "job", "node", "server", "status", "version"):
        assert f"\n  {noun} " in help_text


def test_node_status_self(agent: Agent) -> None:
    result = agent.run("node", "status", "-self")
    assert result.exit_code == 1  # the fake client's node is not registered
    node = agent.server.add_node("me", id="client-node")
    result = agent.run("node", "status", "-self")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ID            = {node.id[:8]}\nName          = me\n")
