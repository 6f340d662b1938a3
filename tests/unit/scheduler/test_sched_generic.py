"""The generic scheduler end to end through the Harness (service and batch)."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.scheduler import UnknownSchedulerError, new_scheduler, register_scheduler
from nomadic.scheduler.generic import GenericScheduler
from nomadic.structs import Allocation, Job, Node, Plan, TaskState
from nomadic.structs.consts import SECOND
from nomadic.testing.factories import mock_alloc, mock_batch_job, mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NOW = 1_700_000_000 * SECOND


def placed(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_allocation.values() for a in allocs]


def stopped(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_update.values() for a in allocs]


def indexes(allocs: list[Allocation]) -> list[int]:
    return sorted(a.index() for a in allocs)


def cluster(n: int = 10) -> Harness:
    h = Harness()
    for _ in range(n):
        h.state.upsert_node(mock_node())
    return h


def run(h: Harness, job: Job, **eval_fields: object) -> None:
    h.process(mock_eval(job, **eval_fields), clock=lambda: NOW)


def test_job_register_places_every_alloc() -> None:
    h = cluster()
    job = h.state.upsert_job(mock_job())
    run(h, job)
    assert len(h.plans) == 1
    allocs = placed(h.plans[0])
    assert indexes(allocs) == list(range(10))
    assert {a.name for a in allocs} == {f"{job.id}.web[{i}]" for i in range(10)}
    for alloc in allocs:
        assert alloc.desired_status == "run" and alloc.client_status == "pending"
        assert alloc.allocated_resources.shared.disk_mb == 150
        assert alloc.allocated_resources.tasks["web"].cpu.cpu_shares == 500
        assert alloc.metrics is not None and alloc.metrics.nodes_evaluated >= 2
        assert alloc.metrics.nodes_available == {"dc1": 10}
        assert {p.label for p in alloc.allocated_resources.shared.ports} == {"http", "admin"}
    final = h.evals[-1]
    assert final.status == "complete"
    assert final.queued_allocations == {"web": 0}
    assert final.failed_tg_allocs == {}
    assert h.create_evals == []


def test_placements_spread_by_job_anti_affinity() -> None:
    h = cluster(10)
    job = h.state.upsert_job(mock_job())
    run(h, job)
    per_node = [len(v) for v in h.plans[0].node_allocation.values()]
    assert max(per_node) <= 2


def test_new_scheduler_rejects_unknown_type() -> None:
    h = Harness()
    with pytest.raises(
        UnknownSchedulerError, match="known types: batch, service, sysbatch, system"
    ):
        new_scheduler("system-ish", h.state, h)


def test_new_scheduler_builds_generic_schedulers() -> None:
    h = Harness()
    service = new_scheduler("service", h.state, h)
    batch = new_scheduler("batch", h.state, h)
    assert isinstance(service, GenericScheduler) and not service.batch
    assert isinstance(batch, GenericScheduler) and batch.batch


def test_register_scheduler_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_scheduler(
            "service", lambda state, planner: new_scheduler("service", state, planner)
        )


def test_unsupported_trigger_fails_the_eval() -> None:
    h = cluster(1)
    job = h.state.upsert_job(mock_job())
    run(h, job, triggered_by="bogus")
    assert h.plans == []
    assert h.evals[-1].status == "failed"
    assert h.evals[-1].status_description == "scheduler cannot handle 'bogus' evaluation reason"


def _existing(h: Harness, job: Job, idx: list[int], **fields: object) -> list[Allocation]:
    nodes = h.state.nodes()
    allocs = [
        mock_alloc(job, nodes[i % len(nodes)], index=i, **{"client_status": "running", **fields})
        for i in idx
    ]
    h.state.upsert_allocs(allocs)
    return allocs


def test_count_up_fills_lowest_free_indexes() -> None:
    h = cluster()
    job = h.state.upsert_job(mock_job())
    old = {a.id for a in _existing(h, job, [0, 1, 3, 7])}
    tg = msgspec.structs.replace(job.task_groups[0], count=6)
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[tg]))
    run(h, job)
    new = [a for a in placed(h.plans[0]) if a.id not in old]
    # four exist (index 7 is kept although above the count), two are added in the gaps
    assert indexes(new) == [2, 4]
    assert stopped(h.plans[0]) == []


def test_count_down_stops_highest_indexes() -> None:
    h = cluster()
    job = h.state.upsert_job(mock_job())
    _existing(h, job, list(range(10)))
    tg = msgspec.structs.replace(job.task_groups[0], count=6)
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[tg]))
    run(h, job)
    stops = stopped(h.plans[0])
    assert indexes(stops) == [6, 7, 8, 9]
    assert {a.desired_status for a in stops} == {"stop"}
    assert {a.desired_description for a in stops} == {"alloc not needed due to job update"}
    # the count change alone is applied in place to the remaining six
    assert indexes(placed(h.plans[0])) == list(range(6))


@pytest.mark.parametrize("how", ["stopped", "purged"])
def test_deregister_stops_everything(how: str) -> None:
    h = cluster()
    job = h.state.upsert_job(mock_job())
    _existing(h, job, list(range(10)))
    done = _existing(h, job, [10], client_status="complete")
    ev = mock_eval(job, triggered_by="job-deregister", annotate_plan=True)
    if how == "stopped":
        h.state.upsert_job(msgspec.structs.replace(job, stop=True))
    else:
        del h.state.jobs[(job.namespace, job.id)]
    h.process(ev)
    stops = stopped(h.plans[0])
    assert len(stops) == 10 and done[0].id not in {a.id for a in stops}
    assert placed(h.plans[0]) == []
    assert h.plans[0].annotations == {
        "web": {
            "Ignore": 0,
            "Place": 0,
            "Migrate": 0,
            "Stop": 10,
            "InPlaceUpdate": 0,
            "DestructiveUpdate": 0,
            "Canary": 0,
            "Preemptions": 0,
        }
    }
    assert h.evals[-1].status == "complete"


def test_allocs_on_down_node_are_lost_and_replaced() -> None:
    h = Harness()
    down = h.state.upsert_node(mock_node())
    up = h.state.upsert_node(mock_node())
    job = h.state.upsert_job(
        mock_job(task_groups=[msgspec.structs.replace(mock_job().task_groups[0], count=2)])
    )
    lost = [mock_alloc(job, down, index=i, client_status="running") for i in range(2)]
    h.state.upsert_allocs(lost)
    h.state.upsert_node(msgspec.structs.replace(down, status="down"))
    run(h, job, triggered_by="node-update")
    stops = stopped(h.plans[0])
    assert {a.id for a in stops} == {a.id for a in lost}
    assert {a.client_status for a in stops} == {"lost"}
    assert {a.desired_description for a in stops} == {"alloc is lost since its node is down"}
    new = placed(h.plans[0])
    assert {a.node_id for a in new} == {up.id}
    assert {a.previous_allocation for a in new} == {a.id for a in lost}
    assert sorted(a.name for a in new) == sorted(a.name for a in lost)


@pytest.mark.parametrize(
    ("change", "destructive"),
    [
        pytest.param(lambda t: msgspec.structs.replace(t, env={"FOO": "baz"}), True, id="env"),
        pytest.param(lambda t: msgspec.structs.replace(t, driver="mock_driver"), True, id="driver"),
        pytest.param(
            lambda t: msgspec.structs.replace(
                t, resources=msgspec.structs.replace(t.resources, memory_mb=512)
            ),
            True,
            id="memory",
        ),
        pytest.param(
            lambda t: msgspec.structs.replace(t, kill_timeout=9 * SECOND), False, id="kill-timeout"
        ),
        pytest.param(lambda t: msgspec.structs.replace(t, services=[]), False, id="services"),
    ],
)
def test_destructive_vs_inplace_update(change, destructive: bool) -> None:
    h = cluster(3)
    job = h.state.upsert_job(
        mock_job(task_groups=[msgspec.structs.replace(mock_job().task_groups[0], count=3)])
    )
    old = _existing(h, job, [0, 1, 2])
    tg = job.task_groups[0]
    new_tg = msgspec.structs.replace(tg, tasks=[change(tg.tasks[0])])
    job = h.state.upsert_job(msgspec.structs.replace(job, task_groups=[new_tg]))
    run(h, job)
    plan = h.plans[0]
    old_ids = {a.id for a in old}
    if destructive:
        assert {a.id for a in stopped(plan)} == old_ids
        assert {a.desired_description for a in stopped(plan)} == {
            "alloc is being updated due to job update"
        }
        assert not old_ids & {a.id for a in placed(plan)}
        assert {a.previous_allocation for a in placed(plan)} == old_ids
    else:
        assert stopped(plan) == []
        updated = placed(plan)
        assert {a.id for a in updated} == old_ids
        assert {a.job.version for a in updated if a.job} == {job.version}
        # in-place updates keep their node and ports
        for before in old:
            after = next(a for a in updated if a.id == before.id)
            assert after.node_id == before.node_id
            assert after.allocated_resources.shared.ports == before.allocated_resources.shared.ports


def test_unchanged_job_is_a_noop() -> None:
    h = cluster(3)
    job = h.state.upsert_job(mock_job())
    _existing(h, job, list(range(10)))
    run(h, job)
    assert h.plans == []
    assert h.evals[-1].status == "complete"


def test_batch_completed_allocs_are_not_replaced() -> None:
    h = cluster(3)
    job = h.state.upsert_job(mock_batch_job())
    ok = TaskState(state="dead", failed=False)
    _existing(h, job, list(range(4)), client_status="complete", task_states={"web": ok})
    _existing(h, job, list(range(4, 10)))
    run(h, job)
    assert h.plans == []
    assert h.evals[-1].status == "complete"


def test_batch_stopped_but_unfinished_allocs_are_replaced() -> None:
    h = cluster(3)
    job = h.state.upsert_job(mock_batch_job())
    _existing(h, job, list(range(8)))
    failed = TaskState(state="dead", failed=True)
    _existing(
        h, job, [8, 9], desired_status="stop", client_status="failed", task_states={"web": failed}
    )
    run(h, job)
    # stopped before finishing successfully: the work is not done, the names are placed again
    assert indexes(placed(h.plans[0])) == [8, 9]


# --- failures ---


@pytest.mark.parametrize(
    ("cpu", "memory", "dimension"),
    [(500, 16_000, "memory"), (9_000, 256, "cpu")],
    ids=["memory", "cpu"],
)
def test_no_fit_records_failed_tg_allocs_and_blocked_eval(
    cpu: int, memory: int, dimension: str
) -> None:
    h = cluster(3)
    base = mock_job()
    task = base.task_groups[0].tasks[0]
    task = msgspec.structs.replace(
        task, resources=msgspec.structs.replace(task.resources, cpu=cpu, memory_mb=memory)
    )
    job = h.state.upsert_job(
        msgspec.structs.replace(
            base, task_groups=[msgspec.structs.replace(base.task_groups[0], tasks=[task])]
        )
    )
    run(h, job)
    assert h.plans == []
    final = h.evals[-1]
    assert final.status == "complete"
    metric = final.failed_tg_allocs["web"]
    # exhausted nodes do not count toward the limit of 2: all three are tried
    assert metric.nodes_evaluated == 3
    assert metric.nodes_exhausted == 3
    assert metric.dimension_exhausted == {dimension: 3}
    assert metric.coalesced_failures == 9
    key = "MemoryMB" if dimension == "memory" else "CPU"
    assert metric.resources_exhausted["web"][key] == (memory if dimension == "memory" else cpu)
    assert final.queued_allocations == {"web": 10}
    [blocked] = h.create_evals
    assert blocked.status == "blocked"
    assert blocked.triggered_by == "queued-allocs"
    assert blocked.status_description == "created to place remaining allocations"
    assert blocked.previous_eval == final.id
    assert final.blocked_eval == blocked.id
    assert blocked.failed_tg_allocs["web"].dimension_exhausted == {dimension: 3}


def driverless_node() -> Node:
    return mock_node(drivers={}, attributes={"kernel.name": "linux"}, node_class="small")


def test_missing_driver_reported_in_failed_tg_allocs() -> None:
    h = Harness()
    for _ in range(2):
        h.state.upsert_node(driverless_node())
    job = h.state.upsert_job(mock_job())
    run(h, job)
    metric = h.evals[-1].failed_tg_allocs["web"]
    assert metric.nodes_filtered == 2
    assert metric.class_filtered == {"small": 2}
    # the second node shares the first one's computed class: its verdict is reused
    assert metric.constraint_filtered == {"missing drivers": 1, "computed class ineligible": 1}


def test_partial_fit_places_what_it_can() -> None:
    h = cluster(2)  # each node holds 8 allocs of 500 MHz
    job = h.state.upsert_job(
        mock_job(task_groups=[msgspec.structs.replace(mock_job().task_groups[0], count=20)])
    )
    run(h, job)
    assert len(placed(h.plans[0])) == 16
    final = h.evals[-1]
    assert final.queued_allocations == {"web": 4}
    assert final.failed_tg_allocs["web"].coalesced_failures == 3
    assert len(h.create_evals) == 1


def test_blocked_eval_that_still_fails_is_reblocked() -> None:
    h = Harness()
    h.state.upsert_node(driverless_node())
    job = h.state.upsert_job(mock_job())
    h.process(mock_eval(job, status="blocked", triggered_by="queued-allocs"))
    assert h.create_evals == [] and h.evals == []
    [reblocked] = h.reblock_evals
    assert reblocked.failed_tg_allocs["web"].constraint_filtered == {"missing drivers": 1}


# --- plan rejection and retries ---


def test_partial_commit_is_retried_on_refreshed_state() -> None:
    h = cluster(4)
    job = h.state.upsert_job(
        mock_job(task_groups=[msgspec.structs.replace(mock_job().task_groups[0], count=4)])
    )
    ev = mock_eval(job)
    snap = h.state.snapshot()
    # Another scheduler fills one node after our snapshot: the applier rejects that node.
    target = h.state.nodes()[0]
    filler = mock_alloc(mock_job(), target, client_status="running")
    filler.allocated_resources.tasks["web"].cpu.cpu_shares = 4000
    h.state.upsert_allocs([filler])
    GenericScheduler(snap, h, batch=False, clock=lambda: NOW).process(ev)
    assert len(h.plans) >= 2
    first = h.plans[0]
    assert target.id in first.node_allocation
    live = [a for a in h.state.allocs_by_job(job.namespace, job.id) if not a.terminal()]
    assert indexes(live) == [0, 1, 2, 3]
    assert target.id not in {a.node_id for a in live}
    assert h.evals[-1].status == "complete"
    assert h.evals[-1].queued_allocations == {"web": 0}


@pytest.mark.parametrize(("job_factory", "attempts"), [(mock_job, 5), (mock_batch_job, 2)])
def test_max_plan_attempts_creates_blocked_eval(job_factory, attempts: int) -> None:
    h = cluster(3)
    h.reject_plans = 100
    job = h.state.upsert_job(job_factory())
    run(h, job)
    assert len(h.plans) == attempts
    final = h.evals[-1]
    assert final.status == "failed"
    assert final.status_description == f"maximum attempts reached ({attempts})"
    [blocked] = h.create_evals
    assert blocked.triggered_by == "max-plan-attempts"
    assert blocked.status_description == "created due to placement conflicts"
    assert final.blocked_eval == blocked.id


def test_one_rejected_plan_then_success() -> None:
    h = cluster(3)
    h.reject_plans = 1
    job = h.state.upsert_job(mock_job())
    run(h, job)
    assert len(h.plans) == 2
    assert len(placed(h.plans[1])) == 10
    assert h.evals[-1].status == "complete"


def test_disconnected_node_allocs_are_lost() -> None:
    h = Harness()
    gone = h.state.upsert_node(mock_node())
    h.state.upsert_node(mock_node())
    job = h.state.upsert_job(
        mock_job(task_groups=[msgspec.structs.replace(mock_job().task_groups[0], count=1)])
    )
    alloc = mock_alloc(job, gone, client_status="running")
    h.state.upsert_allocs([alloc])
    h.state.upsert_node(msgspec.structs.replace(gone, status="disconnected"))
    run(h, job, triggered_by="node-update")
    [stop] = stopped(h.plans[0])
    assert stop.id == alloc.id and stop.client_status == "lost"


def test_annotations_count_every_kind_of_change() -> None:
    h = cluster(4)
    job = h.state.upsert_job(mock_job())
    _existing(h, job, list(range(10)))
    tg = job.task_groups[0]
    task = msgspec.structs.replace(tg.tasks[0], env={"FOO": "new"})
    job = h.state.upsert_job(
        msgspec.structs.replace(
            job, task_groups=[msgspec.structs.replace(tg, count=8, tasks=[task])]
        )
    )
    run(h, job, annotate_plan=True)
    annotation = h.plans[0].annotations["web"]
    assert annotation["Stop"] == 2
    assert annotation["DestructiveUpdate"] == 8
    assert annotation["Place"] == 0 and annotation["InPlaceUpdate"] == 0
