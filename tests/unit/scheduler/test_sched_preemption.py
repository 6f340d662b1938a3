"""Preemption for system jobs: who may be evicted, which set is chosen, and when it is off."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from nomadic.scheduler.preemption import Preemptor, basic_resource_distance
from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    Job,
    MigrateStrategy,
    Node,
    PreemptionConfig,
    Resources,
    SchedulerConfiguration,
)
from nomadic.structs.consts import SECOND
from nomadic.testing.factories import mock_alloc, mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NOW = 1_700_000_000 * SECOND


def resources(cpu: int, mem: int, disk: int = 0) -> AllocatedResources:
    return AllocatedResources(
        tasks={
            "web": AllocatedTaskResources(
                cpu=AllocatedCpuResources(cpu_shares=cpu),
                memory=AllocatedMemoryResources(memory_mb=mem),
            )
        },
        shared=AllocatedSharedResources(disk_mb=disk),
    )


def low_alloc(h: Harness, node: Node, priority: int, cpu: int, mem: int, **job: Any) -> Allocation:
    j = h.state.upsert_job(mock_job(priority=priority, **job))
    alloc = mock_alloc(j, node, client_status="running", allocated_resources=resources(cpu, mem))
    h.state.upsert_allocs([alloc])
    return alloc


def system_job(priority: int = 50, cpu: int = 1000, mem: int = 1024) -> Job:
    job = mock_job(type="system", priority=priority)
    task = msgspec.structs.replace(
        job.task_groups[0].tasks[0], resources=Resources(cpu=cpu, memory_mb=mem)
    )
    tg = msgspec.structs.replace(
        job.task_groups[0],
        count=1,
        networks=[],
        tasks=[task],
        ephemeral_disk=job.task_groups[0].ephemeral_disk,
    )
    return msgspec.structs.replace(job, task_groups=[tg])


def run(h: Harness, job: Job) -> None:
    h.process(mock_eval(job), clock=lambda: NOW)


def full_node(h: Harness) -> Node:
    """4000 MHz / 8192 MB; the low allocs below take 3600 MHz and 7800 MB of it."""
    return h.state.upsert_node(mock_node())


@pytest.mark.parametrize(
    ("low_priority", "preempted"),
    [
        pytest.param(40, True, id="delta-10-preempted"),
        pytest.param(41, False, id="delta-9-kept"),
        pytest.param(50, False, id="same-priority-kept"),
    ],
)
def test_priority_delta_rule(low_priority: int, preempted: bool) -> None:
    h = Harness()
    node = full_node(h)
    victim = low_alloc(h, node, low_priority, 3600, 7800)
    job = h.state.upsert_job(system_job(priority=50))
    run(h, job)
    if not preempted:
        assert h.plans == []
        metric = h.evals[-1].failed_tg_allocs["web"]
        assert metric.dimension_exhausted == {"cpu": 1}
        return
    plan = h.plans[0]
    (evicted,) = plan.node_preemptions[node.id]
    (alloc,) = plan.node_allocation[node.id]
    assert evicted.id == victim.id
    assert evicted.desired_status == "evict"
    assert evicted.desired_description == f"Preempted by alloc ID {alloc.id}"
    assert evicted.preempted_by_allocation == alloc.id
    assert alloc.preempted_allocations == [victim.id]
    stored = h.state.alloc_by_id(victim.id)
    assert stored is not None and stored.desired_status == "evict"
    assert h.evals[-1].status == "complete"


def test_distance_heuristic_picks_the_best_fitting_alloc() -> None:
    h = Harness()
    node = full_node(h)
    small = low_alloc(h, node, 20, 400, 512)
    exact = low_alloc(h, node, 20, 1000, 1024)
    big = low_alloc(h, node, 20, 2200, 6400)
    job = h.state.upsert_job(system_job(cpu=1000, mem=1024))
    run(h, job)
    (evicted,) = h.plans[0].node_preemptions[node.id]
    assert evicted.id == exact.id
    assert {small.id, big.id}.isdisjoint({evicted.id})


def test_lowest_priority_group_is_preempted_first() -> None:
    h = Harness()
    node = full_node(h)
    low = low_alloc(h, node, 10, 1800, 3900)
    mid = low_alloc(h, node, 30, 1800, 3900)
    job = h.state.upsert_job(system_job(cpu=1000, mem=1024))
    run(h, job)
    (evicted,) = h.plans[0].node_preemptions[node.id]
    assert evicted.id == low.id and evicted.id != mid.id


def test_several_allocs_preempted_when_one_is_not_enough() -> None:
    h = Harness()
    node = full_node(h)
    allocs = [low_alloc(h, node, 20, 800, 1900) for _ in range(4)]
    job = h.state.upsert_job(system_job(cpu=1500, mem=3000))
    run(h, job)
    evicted = h.plans[0].node_preemptions[node.id]
    assert len(evicted) == 2
    assert {a.id for a in evicted} <= {a.id for a in allocs}


def test_no_preemption_when_disabled() -> None:
    h = Harness()
    h.state.sched_config = SchedulerConfiguration(
        preemption_config=PreemptionConfig(system_scheduler_enabled=False)
    )
    node = full_node(h)
    low_alloc(h, node, 20, 3600, 7800)
    job = h.state.upsert_job(system_job())
    run(h, job)
    assert h.plans == []
    assert h.evals[-1].failed_tg_allocs["web"].nodes_exhausted == 1


def test_sysbatch_does_not_preempt_by_default() -> None:
    h = Harness()
    node = full_node(h)
    low_alloc(h, node, 20, 3600, 7800)
    job = system_job()
    job = h.state.upsert_job(msgspec.structs.replace(job, type="sysbatch"))
    run(h, job)
    assert h.plans == []


def test_max_parallel_penalty_spreads_preemptions_over_jobs() -> None:
    node = mock_node()
    one = mock_job(priority=20, migrate=MigrateStrategy(max_parallel=1))
    other = mock_job(priority=20, migrate=MigrateStrategy(max_parallel=1))
    a1 = mock_alloc(one, node, allocated_resources=resources(1000, 1000))
    b1 = mock_alloc(other, node, allocated_resources=resources(1000, 1100))
    # one of job "one" is already being preempted in this plan: prefer the other job
    preemptor = Preemptor(50, {(one.namespace, one.id): 1})
    full = [
        a1,
        b1,
        mock_alloc(mock_job(priority=60), node, allocated_resources=resources(2000, 6092)),
    ]
    assert preemptor.preempt_for_task_group(node, full, (1000, 1000, 0)) == [b1]
    assert Preemptor(50).preempt_for_task_group(node, full, (1000, 1000, 0)) == [a1]


def test_basic_resource_distance() -> None:
    assert basic_resource_distance((1000, 1000, 0), (1000, 1000, 0)) == 0.0
    assert basic_resource_distance((1000, 1000, 0), (0, 0, 0)) == pytest.approx(2**0.5)
    assert basic_resource_distance((1000, 0, 0), (500, 7000, 0)) == pytest.approx(0.5)


@pytest.mark.parametrize("enabled", [False, True], ids=["default-off", "enabled"])
def test_service_preemption_follows_the_configuration(enabled: bool) -> None:
    h = Harness()
    h.state.sched_config = SchedulerConfiguration(
        preemption_config=PreemptionConfig(service_scheduler_enabled=enabled)
    )
    node = full_node(h)
    victim = low_alloc(h, node, 20, 3600, 7800)
    job = system_job(priority=70)
    job = h.state.upsert_job(msgspec.structs.replace(job, type="service"))
    run(h, job)
    if not enabled:
        assert h.plans == []
        return
    (evicted,) = h.plans[0].node_preemptions[node.id]
    assert evicted.id == victim.id and evicted.desired_status == "evict"
