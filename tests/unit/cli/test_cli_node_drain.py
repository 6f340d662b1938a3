"""``nomadic node drain`` and ``nomadic node eligibility`` against a real HTTP app over fakes:
exact output and exit codes."""

from __future__ import annotations

import pytest
from cli_agent import Agent, scrub

from nomadic.structs.consts import HOUR, MINUTE


def test_drain_enable_detach_sets_the_default_one_hour_deadline(agent: Agent) -> None:
    node = agent.server.add_node()
    result = agent.run("node", "drain", "-enable", "-yes", "-detach", node.id[:8])
    assert (result.exit_code, result.output) == (0, f'Node "{node.id}" drain strategy set\n')
    (strategy,) = agent.server.drains
    assert strategy.deadline == HOUR


def test_drain_enable_follows_the_drain_until_complete(agent: Agent) -> None:
    node = agent.server.add_node()
    result = agent.run("node", "drain", "-enable", "-yes", "-deadline", "10m", node.id)
    assert result.exit_code == 0
    assert scrub(result.output).splitlines() == [
        f'Node "{node.id}" drain strategy set',
        "<time>: Ctrl-C to stop monitoring: will not cancel the node drain",
        f'<time>: Drain complete for node "{node.id}"',
    ]
    assert agent.server.drains[0].deadline == 10 * MINUTE
    stored = agent.server.store.snapshot().node_by_id(node.id)
    assert stored is not None and stored.scheduling_eligibility == "ineligible"


@pytest.mark.parametrize(
    ("flags", "deadline"),
    [(["-force"], -1), (["-no-deadline"], 0)],
    ids=["force", "no-deadline"],
)
def test_drain_force_and_no_deadline(agent: Agent, flags: list[str], deadline: int) -> None:
    node = agent.server.add_node()
    result = agent.run("node", "drain", "-enable", "-yes", "-detach", *flags, node.id)
    assert result.exit_code == 0
    assert agent.server.drains[0].deadline == deadline


def test_drain_disable_marks_the_node_eligible(agent: Agent) -> None:
    node = agent.server.add_node(scheduling_eligibility="ineligible")
    result = agent.run("node", "drain", "-disable", "-yes", node.id)
    assert (result.exit_code, result.output) == (0, f'Node "{node.id}" drain strategy unset\n')
    stored = agent.server.store.snapshot().node_by_id(node.id)
    assert stored is not None and stored.scheduling_eligibility == "eligible"


def test_drain_asks_for_confirmation(agent: Agent) -> None:
    node = agent.server.add_node()
    result = agent.run("node", "drain", "-enable", node.id, input="n\n")
    assert result.exit_code == 0
    assert result.output == (
        f'Are you sure you want to enable drain mode for node "{node.id}"? [y/N]: n\n'
        "Canceling drain toggle\n"
    )
    assert agent.server.drains == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["node", "drain", "NODE"], "Either the '-enable' or '-disable' flag must be set"),
        (["node", "drain", "-enable"], "Node ID must be specified if -self isn't being used"),
        (
            ["node", "drain", "-enable", "-yes", "-deadline", "soon", "NODE"],
            'Failed to parse deadline "soon": use a duration such as 30m or 1h',
        ),
        (
            ["node", "drain", "-enable", "-yes", "-force", "-no-deadline", "NODE"],
            "-deadline, -force and -no-deadline are mutually exclusive",
        ),
        (
            ["node", "eligibility", "-enable", "-disable", "NODE"],
            "Either the '-enable' or '-disable' flag must be set",
        ),
    ],
    ids=["no-flag", "no-node", "bad-deadline", "exclusive", "both-eligibility"],
)
def test_bad_invocations(agent: Agent, args: list[str], message: str) -> None:
    node = agent.server.add_node()
    result = agent.run(*[node.id if a == "NODE" else a for a in args])
    assert (result.exit_code, result.output) == (1, f"{message}\n")


def test_eligibility_toggles(agent: Agent) -> None:
    node = agent.server.add_node()
    result = agent.run("node", "eligibility", "-disable", node.id[:6])
    assert (result.exit_code, result.output) == (
        0,
        f'Node "{node.id}" scheduling eligibility set: ineligible for scheduling\n',
    )
    stored = agent.server.store.snapshot().node_by_id(node.id)
    assert stored is not None and stored.scheduling_eligibility == "ineligible"


def test_operator_scheduler_get_and_set_config(agent: Agent) -> None:
    result = agent.run("operator", "scheduler", "get-config")
    assert result.exit_code == 0
    assert "Preemption System Scheduler   = true\n" in result.output
    assert result.output.startswith("Scheduler Algorithm           = binpack\n")
    result = agent.run(
        "operator", "scheduler", "set-config", "-preempt-system-scheduler=false",
        "-scheduler-algorithm", "spread",
    )  # fmt: skip
    assert (result.exit_code, result.output) == (0, "Scheduler configuration updated!\n")
    config = agent.server.store.snapshot().scheduler_config()
    assert config.scheduler_algorithm == "spread"
    assert config.preemption_config.system_scheduler_enabled is False
    assert config.preemption_config.service_scheduler_enabled is False
    shown = agent.run("operator", "scheduler", "get-config").output
    assert "Preemption System Scheduler   = false\n" in shown
