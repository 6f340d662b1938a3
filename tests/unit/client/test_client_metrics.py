"""The client's metrics: counters from reported updates, gauges from runners and the node."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nomadic.client.allocrunner.state import AllocRunnerState
from nomadic.client.metrics import ClientMetrics
from nomadic.plugin.records import CpuStats, MemoryStats, ResourceUsage, TaskResourceUsage
from nomadic.structs import AllocUpdate, TaskEvent, TaskState
from nomadic.telemetry import GaugeSet, default_sink
from nomadic.testing.factories import mock_alloc, mock_job, mock_node

MB = 1024 * 1024


class FakeTaskRunner:
    def __init__(self, usage: TaskResourceUsage | None) -> None:
        self.usage = usage

    async def stats(self) -> TaskResourceUsage | None:
        return self.usage


def _runner(alloc: Any, usage: TaskResourceUsage | None, state: str) -> Any:
    group = alloc.job.lookup_task_group(alloc.task_group)
    machine = AllocRunnerState(alloc, group)
    for task_state in machine.states.values():
        task_state.state = state
    tasks = {t.name: FakeTaskRunner(usage) for t in group.tasks}
    return SimpleNamespace(alloc=alloc, group=group, machine=machine, tasks=tasks)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Any, Any]:
    node = mock_node()
    job = mock_job()
    alloc = mock_alloc(job, node)
    usage = TaskResourceUsage(
        resource_usage=ResourceUsage(
            memory_stats=MemoryStats(rss=5 * MB, usage=6 * MB),
            cpu_stats=CpuStats(percent=12.5, total_ticks=300.0),
        )
    )
    client = SimpleNamespace(
        node=node,
        runners={alloc.id: _runner(alloc, usage, "running")},
        config=SimpleNamespace(node_name="client-a", alloc_dir=tmp_path / "alloc"),
    )
    return client, alloc


async def test_alloc_gauges_carry_nomads_labels(setup: tuple[Any, Any]) -> None:
    client, alloc = setup
    gauges = GaugeSet()
    await ClientMetrics(client, allocations=True, node=False).collect(gauges)
    task = alloc.job.lookup_task_group(alloc.task_group).tasks[0]
    labels = (
        ("alloc_id", alloc.id),
        ("host", "client-a"),
        ("job", alloc.job_id),
        ("namespace", "default"),
        ("task", task.name),
        ("task_group", alloc.task_group),
    )
    values = gauges.values
    assert values[("nomad.client.allocs.memory.rss", labels)] == 5 * MB
    assert values[("nomad.client.allocs.cpu.total_percent", labels)] == 12.5
    assert values[("nomad.client.allocs.memory.allocated", labels)] == task.resources.memory_mb * MB
    assert values[("nomad.client.allocs.cpu.allocated", labels)] == task.resources.cpu


async def test_node_gauges_count_allocations_and_capacity(setup: tuple[Any, Any]) -> None:
    client, alloc = setup
    gauges = GaugeSet()
    await ClientMetrics(client, allocations=False, node=True).collect(gauges)
    by_name = {
        key: v for (key, labels), v in gauges.values.items() if ("cpu", "cpu0") not in labels
    }
    assert by_name["nomad.client.allocations.running"] == 1
    assert by_name["nomad.client.allocations.terminal"] == 0
    assert by_name["nomad.client.tasks.running"] == 1
    cpu, mem, _ = alloc.allocated_resources.comparable()
    assert by_name["nomad.client.allocated.cpu"] == cpu
    assert by_name["nomad.client.allocated.memory"] == mem
    total_mem = client.node.node_resources.memory.memory_mb
    assert by_name["nomad.client.unallocated.memory"] == total_mem - mem
    assert by_name["nomad.client.host.memory.total"] > 0
    assert not any(key.startswith("nomad.client.allocs.") for key in by_name)


def test_restarts_ooms_and_status_changes_are_counted(setup: tuple[Any, Any]) -> None:
    client, alloc = setup
    metrics = ClientMetrics(client, allocations=True, node=True)
    task = next(iter(client.runners[alloc.id].tasks))
    labels = (
        ("alloc_id", alloc.id),
        ("host", "client-a"),
        ("job", alloc.job_id),
        ("namespace", "default"),
        ("task", task),
        ("task_group", alloc.task_group),
    )

    def counter(key: str) -> float:
        return default_sink.cumulative()[0].get((key, labels), 0.0)

    oom = TaskEvent(type="Terminated", details={"oom_killed": "true"})
    before = {k: counter(f"nomad.client.allocs.{k}") for k in ("restart", "oom_killed", "running")}
    for update in (
        AllocUpdate(id=alloc.id, client_status="running", task_states={task: TaskState()}),
        AllocUpdate(id=alloc.id, client_status="running", task_states={task: TaskState()}),
        AllocUpdate(
            id=alloc.id,
            client_status="running",
            task_states={task: TaskState(restarts=1, events=[oom])},
        ),
        AllocUpdate(
            id=alloc.id,
            client_status="running",
            task_states={task: TaskState(restarts=1, events=[oom])},
        ),
    ):
        metrics.observe(update)
    assert counter("nomad.client.allocs.running") == before["running"] + 1  # once, not twice
    assert counter("nomad.client.allocs.restart") == before["restart"] + 1
    assert counter("nomad.client.allocs.oom_killed") == before["oom_killed"] + 1
