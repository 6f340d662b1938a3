"""The system and sysbatch schedulers through the Harness: one allocation per eligible node."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from nomadic.structs import (
    Allocation,
    Constraint,
    DesiredTransition,
    DrainStrategy,
    Job,
    Node,
    Plan,
    Resources,
)
from nomadic.structs.consts import SECOND
from nomadic.testing.factories import mock_alloc, mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NOW = 1_700_000_000 * SECOND


def system_job(type_: str = "system", **overrides: Any) -> Job:
    job = mock_job(type=type_)
    tg = msgspec.structs.replace(job.task_groups[0], count=1, networks=[])
    return msgspec.structs.replace(job, task_groups=[tg], **overrides)


def placed(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_allocation.values() for a in allocs]


def stopped(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_update.values() for a in allocs]


def cluster(n: int = 3, **node_fields: Any) -> tuple[Harness, list[Node]]:
    h = Harness()
    nodes = [h.state.upsert_node(mock_node(**node_fields)) for _ in range(n)]
    return h, nodes


def run(h: Harness, job: Job, **eval_fields: Any) -> None:
    h.process(mock_eval(job, **eval_fields), clock=lambda: NOW)


def running(h: Harness, job: Job) -> list[Allocation]:
    return [a for a in h.state.allocs_by_job(job.namespace, job.id) if not a.terminal()]


@pytest.mark.parametrize("type_", ["system", "sysbatch"])
def test_places_one_alloc_on_every_node(type_: str) -> None:
    h, nodes = cluster(3)
    job = h.state.upsert_job(system_job(type_))
    run(h, job)
    allocs = placed(h.plans[0])
    assert sorted(a.node_id for a in allocs) == sorted(n.id for n in nodes)
    assert {a.name for a in allocs} == {f"{job.id}.web[0]"}
    assert all(a.metrics is not None and a.metrics.nodes_evaluated == 1 for a in allocs)
    assert h.evals[-1].status == "complete"
    assert h.evals[-1].queued_allocations == {"web": 0}
    assert h.create_evals == []


def test_rerun_is_a_noop() -> None:
    h, _ = cluster(3)
    job = h.state.upsert_job(system_job())
    run(h, job)
    run(h, job)
    assert len(h.plans) == 1  # the second eval found nothing to do
    assert h.evals[-1].status == "complete"


def test_infeasible_nodes_are_skipped_not_failures() -> None:
    h = Harness()
    linux = [h.state.upsert_node(mock_node()) for _ in range(2)]
    windows = mock_node(attributes={**mock_node().attributes, "kernel.name": "windows"})
    h.state.upsert_node(windows)
    job = h.state.upsert_job(system_job())
    run(h, job)
    assert sorted(a.node_id for a in placed(h.plans[0])) == sorted(n.id for n in linux)
    final = h.evals[-1]
    assert final.status == "complete"
    assert final.failed_tg_allocs == {}
    assert h.create_evals == []  # no blocked eval for a node that can never run it


def test_every_node_filtered_is_reported() -> None:
    h, _ = cluster(2)
    job = system_job(
        constraints=[Constraint(l_target="${attr.kernel.name}", r_target="plan9", operand="=")]
    )
    job = h.state.upsert_job(job)
    run(h, job)
    metric = h.evals[-1].failed_tg_allocs["web"]
    assert metric.nodes_filtered == 1
    assert metric.constraint_filtered == {"${attr.kernel.name} = plan9": 1}


def test_exhausted_node_is_a_failure_with_a_blocked_eval() -> None:
    h, _ = cluster(2)
    small = h.state.upsert_node(
        msgspec.structs.replace(
            mock_node(),
            node_resources=msgspec.structs.replace(
                mock_node().node_resources,
                memory=msgspec.structs.replace(mock_node().node_resources.memory, memory_mb=128),
            ),
        )
    )
    job = h.state.upsert_job(system_job())
    run(h, job)
    assert small.id not in {a.node_id for a in placed(h.plans[0])}
    assert len(placed(h.plans[0])) == 2
    metric = h.evals[-1].failed_tg_allocs["web"]
    assert metric.dimension_exhausted == {"memory": 1}
    assert metric.resources_exhausted == {"web": {"MemoryMB": 256}}
    (blocked,) = h.create_evals
    assert blocked.status == "blocked" and blocked.triggered_by == "queued-allocs"
    assert h.evals[-1].queued_allocations == {"web": 1}


@pytest.mark.parametrize(
    ("node_change", "expected"),
    [
        pytest.param({"status": "down"}, ("stop", "lost"), id="down-node-lost"),
        pytest.param({"scheduling_eligibility": "ineligible"}, None, id="ineligible-kept"),
        pytest.param({"datacenter": "dc9"}, ("stop", "running"), id="out-of-dc-stopped"),
        pytest.param(
            {"drain": True, "drain_strategy": DrainStrategy(deadline=3600 * SECOND)},
            None,
            id="draining-left-to-drainer",
        ),
    ],
)
def test_allocs_on_changed_nodes(
    node_change: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    h, nodes = cluster(2)
    job = h.state.upsert_job(system_job())
    run(h, job)
    for a in running(h, job):
        h.state.upsert_allocs([msgspec.structs.replace(a, client_status="running")])
    changed = h.state.upsert_node(msgspec.structs.replace(nodes[0], **node_change))
    run(h, job, triggered_by="node-update", node_id=changed.id)
    if expected is None:
        assert len(h.plans) == 1  # nothing to change
        return
    (stop,) = stopped(h.plans[-1])
    assert stop.node_id == changed.id
    assert (stop.desired_status, stop.client_status) == expected
    assert placed(h.plans[-1]) == []


def test_migrate_marked_alloc_is_stopped_and_not_replaced_on_its_node() -> None:
    h, nodes = cluster(2)
    job = h.state.upsert_job(system_job())
    run(h, job)
    h.state.upsert_node(
        msgspec.structs.replace(
            nodes[0],
            drain=True,
            drain_strategy=DrainStrategy(),
            scheduling_eligibility="ineligible",
        )
    )
    victim = next(a for a in running(h, job) if a.node_id == nodes[0].id)
    h.state.upsert_allocs(
        [msgspec.structs.replace(victim, desired_transition=DesiredTransition(migrate=True))]
    )
    run(h, job, triggered_by="node-drain")
    (stop,) = stopped(h.plans[-1])
    assert stop.id == victim.id
    assert stop.desired_description == "alloc not needed as node is tainted"
    assert placed(h.plans[-1]) == []


def test_new_node_gets_an_alloc() -> None:
    h, _ = cluster(2)
    job = h.state.upsert_job(system_job())
    run(h, job)
    new = h.state.upsert_node(mock_node())
    run(h, job, triggered_by="node-update", node_id=new.id)
    (alloc,) = placed(h.plans[-1])
    assert alloc.node_id == new.id
    assert len(running(h, job)) == 3


def test_job_stop_stops_every_alloc() -> None:
    h, _ = cluster(3)
    job = h.state.upsert_job(system_job())
    run(h, job)
    job = h.state.upsert_job(msgspec.structs.replace(job, stop=True))
    run(h, job, triggered_by="job-deregister")
    assert len(stopped(h.plans[-1])) == 3
    assert running(h, job) == []


@pytest.mark.parametrize(
    ("change", "inplace"),
    [
        pytest.param({"meta": {"owner": "someone-else"}}, False, id="meta-destructive"),
        pytest.param({"resources": Resources(cpu=600, memory_mb=256)}, False, id="cpu"),
        pytest.param({}, True, id="constraint-only-in-place"),
    ],
)
def test_update_in_place_or_destructive(change: dict[str, Any], inplace: bool) -> None:
    h, _ = cluster(2)
    job = h.state.upsert_job(system_job())
    run(h, job)
    old_ids = {a.id for a in running(h, job)}
    tg = job.task_groups[0]
    if change:
        task = msgspec.structs.replace(tg.tasks[0], **change)
        tg = msgspec.structs.replace(tg, tasks=[task])
    else:
        tg = msgspec.structs.replace(
            tg, constraints=[Constraint(l_target="${attr.arch}", r_target="x86_64", operand="=")]
        )
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[tg]))
    run(h, job)
    plan = h.plans[-1]
    if inplace:
        assert {a.id for a in placed(plan)} == old_ids
        assert stopped(plan) == []
        assert plan.annotations is None
    else:
        assert {a.id for a in stopped(plan)} == old_ids
        assert all(
            a.desired_description.startswith("alloc is being updated") for a in stopped(plan)
        )
        new = placed(plan)
        assert len(new) == 2 and not ({a.id for a in new} & old_ids)
        assert {a.previous_allocation for a in new} == old_ids
    assert all(a.job is not None and a.job.version == 1 for a in running(h, job))


def test_sysbatch_completed_alloc_is_not_rerun() -> None:
    h, nodes = cluster(2)
    job = h.state.upsert_job(system_job("sysbatch"))
    run(h, job)
    done = [msgspec.structs.replace(a, client_status="complete") for a in running(h, job)]
    h.state.upsert_allocs(done)
    run(h, job, triggered_by="node-update", node_id=nodes[0].id)
    assert len(h.plans) == 1
    assert h.evals[-1].status == "complete"
    # a node joining later still gets its run
    new = h.state.upsert_node(mock_node())
    run(h, job, triggered_by="node-update", node_id=new.id)
    (alloc,) = placed(h.plans[-1])
    assert alloc.node_id == new.id


def test_sysbatch_completed_alloc_reruns_after_a_job_change() -> None:
    h, nodes = cluster(1)
    job = h.state.upsert_job(system_job("sysbatch"))
    run(h, job)
    (first,) = running(h, job)
    h.state.upsert_allocs([msgspec.structs.replace(first, client_status="complete")])
    task = msgspec.structs.replace(job.task_groups[0].tasks[0], env={"FOO": "baz"})
    tg = msgspec.structs.replace(job.task_groups[0], tasks=[task])
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[tg]))
    run(h, job)
    (again,) = placed(h.plans[-1])
    assert again.node_id == nodes[0].id and again.previous_allocation == first.id


def test_system_failed_alloc_is_replaced_on_its_node() -> None:
    h, nodes = cluster(1)
    job = h.state.upsert_job(system_job())
    run(h, job)
    (first,) = running(h, job)
    h.state.upsert_allocs([msgspec.structs.replace(first, client_status="failed")])
    run(h, job, triggered_by="alloc-failure")
    (again,) = placed(h.plans[-1])
    assert again.node_id == nodes[0].id and again.previous_allocation == first.id


def test_annotated_plan_counts_per_group() -> None:
    h, _ = cluster(3)
    job = h.state.upsert_job(system_job())
    run(h, job, annotate_plan=True)
    assert h.plans[0].annotations == {
        "web": {
            "Ignore": 0,
            "Place": 3,
            "Migrate": 0,
            "Stop": 0,
            "InPlaceUpdate": 0,
            "DestructiveUpdate": 0,
            "Canary": 0,
            "Preemptions": 0,
        }
    }


def test_existing_alloc_with_no_job_change_is_ignored() -> None:
    h, nodes = cluster(1)
    job = h.state.upsert_job(system_job())
    h.state.upsert_allocs([mock_alloc(job, nodes[0], client_status="running")])
    run(h, job)
    assert h.plans == []


def test_rolling_update_replaces_max_parallel_then_follows_up() -> None:
    from nomadic.structs import UpdateStrategy

    h, _ = cluster(3)
    job = h.state.upsert_job(system_job(update=UpdateStrategy(stagger=30 * SECOND, max_parallel=1)))
    run(h, job)
    task = msgspec.structs.replace(job.task_groups[0].tasks[0], env={"FOO": "v2"})
    tg = msgspec.structs.replace(job.task_groups[0], tasks=[task])
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[tg]))
    run(h, job)
    assert len(stopped(h.plans[-1])) == 1 and len(placed(h.plans[-1])) == 1
    (followup,) = h.create_evals
    assert followup.triggered_by == "rolling-update"
    assert followup.wait_until == NOW + 30 * SECOND
    run(h, job, triggered_by="rolling-update")
    assert len(stopped(h.plans[-1])) == 1
    versions = sorted(a.job.version for a in running(h, job) if a.job is not None)
    assert versions == [0, 1, 1]
