"""Deployments in the generic scheduler: created with a new version, max_parallel pacing,
canaries and promotion, cancellation, pause/pending/failed, completion (through the Harness)."""

from __future__ import annotations

import copy

import msgspec
import pytest

from nomadic.structs import (
    Allocation,
    AllocDeploymentStatus,
    Deployment,
    Job,
    Multiregion,
    Plan,
    UpdateStrategy,
)
from nomadic.structs.consts import SECOND
from nomadic.testing.factories import mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NOW = 1_700_000_000 * SECOND


def placed(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_allocation.values() for a in allocs]


def stopped(plan: Plan) -> list[Allocation]:
    return [a for allocs in plan.node_update.values() for a in allocs]


def run(h: Harness, job: Job) -> Plan:
    before = len(h.plans)
    h.process(mock_eval(job), clock=lambda: NOW)
    assert len(h.plans) == before + 1, "the scheduler submitted no plan"
    return h.plans[-1]


def try_run(h: Harness, job: Job) -> Plan:
    """The plan of one scheduler run; an empty plan when there was nothing to do."""
    before = len(h.plans)
    h.process(mock_eval(job), clock=lambda: NOW)
    assert h.evals[-1].status == "complete"
    return h.plans[-1] if len(h.plans) > before else Plan()


def cluster() -> Harness:
    h = Harness()
    for _ in range(10):
        h.state.upsert_node(mock_node())
    return h


def first_version(
    h: Harness, count: int = 4, strategy: UpdateStrategy | None = None, **job_fields: object
) -> Job:
    job = mock_job(**job_fields)
    job.task_groups[0].count = count
    job.task_groups[0].update = strategy or UpdateStrategy(max_parallel=2)
    job = h.state.upsert_job(job)
    plan = run(h, job)
    for alloc in placed(plan):
        set_health(h, alloc.id, True)
    succeed(h, job)
    return job


def set_health(h: Harness, alloc_id: str, healthy: bool | None, canary: bool = False) -> None:
    alloc = h.state.allocs[alloc_id]
    status = AllocDeploymentStatus(healthy=healthy, canary=canary)
    h.state.allocs[alloc_id] = msgspec.structs.replace(
        alloc, client_status="running", deployment_status=status
    )


def deployment(h: Harness, job: Job) -> Deployment:
    d = h.state.latest_deployment_by_job(job.namespace, job.id)
    assert d is not None
    return d


def succeed(h: Harness, job: Job) -> None:
    d = deployment(h, job)
    h.state.upsert_deployment(msgspec.structs.replace(d, status="successful"))


def new_version(h: Harness, job: Job, env: str = "2") -> Job:
    changed = copy.deepcopy(job)
    changed.task_groups[0].tasks[0].env["VERSION"] = env
    return h.state.upsert_job(changed)


def test_first_run_creates_a_deployment_that_tags_every_placement() -> None:
    h = cluster()
    job = mock_job()
    job.task_groups[0].update = UpdateStrategy(max_parallel=2, progress_deadline=60 * SECOND)
    job = h.state.upsert_job(job)
    plan = run(h, job)
    d = plan.deployment
    assert d is not None and d.status == "running" and d.job_version == job.version
    state = d.task_groups["web"]
    assert (state.desired_total, state.progress_deadline) == (10, 60 * SECOND)
    assert len(placed(plan)) == 10  # a first run is not paced
    assert {a.deployment_id for a in placed(plan)} == {d.id}


def test_a_job_without_update_block_gets_no_deployment() -> None:
    h = cluster()
    job = h.state.upsert_job(mock_job())
    plan = run(h, job)
    assert plan.deployment is None and {a.deployment_id for a in placed(plan)} == {""}


def test_a_new_version_replaces_max_parallel_allocs_and_cancels_the_old_deployment() -> None:
    h = cluster()
    job = first_version(h, count=4)
    old = deployment(h, job)
    h.state.upsert_deployment(msgspec.structs.replace(old, status="running"))
    v1 = new_version(h, job)
    plan = run(h, v1)
    assert plan.deployment is not None and plan.deployment.job_version == v1.version
    assert [(u.deployment_id, u.status, u.status_description) for u in plan.deployment_updates] == [
        (old.id, "cancelled", "Cancelled due to newer version of job")
    ]
    assert len(placed(plan)) == 2 and len(stopped(plan)) == 2
    assert {a.deployment_id for a in placed(plan)} == {plan.deployment.id}
    assert sorted(a.index() for a in stopped(plan)) == [0, 1]  # lowest names first


# (health of the two new-version allocs already placed, destructive updates allowed now)
PACING = [
    ("none-healthy-yet", [None, None], 0),
    ("one-healthy", [True, None], 1),
    ("both-healthy", [True, True], 2),
    ("one-unhealthy", [False, True], 0),
]


@pytest.mark.parametrize(("health", "allowed"), [c[1:] for c in PACING], ids=[c[0] for c in PACING])
def test_destructive_updates_wait_for_healthy_allocs(
    health: list[bool | None], allowed: int
) -> None:
    h = cluster()
    job = first_version(h, count=6)
    v1 = new_version(h, job)
    plan = run(h, v1)
    for alloc, healthy in zip(placed(plan), health, strict=True):
        set_health(h, alloc.id, healthy)
    plan = try_run(h, v1)
    assert len(placed(plan)) == allowed
    assert len(stopped(plan)) == allowed
    assert plan.deployment is None  # the deployment exists already


@pytest.mark.parametrize("status", ["paused", "pending", "failed"])
def test_a_halted_deployment_starts_nothing(status: str) -> None:
    h = cluster()
    job = first_version(h, count=4)
    v1 = new_version(h, job)
    first = run(h, v1)
    for alloc in placed(first):
        set_health(h, alloc.id, True)
    d = deployment(h, v1)
    h.state.upsert_deployment(msgspec.structs.replace(d, status=status))
    later = try_run(h, v1)
    assert placed(first) and not placed(later) and not stopped(later)


def test_the_last_healthy_alloc_completes_the_deployment() -> None:
    h = cluster()
    job = first_version(h, count=2)
    v1 = new_version(h, job)
    plan = run(h, v1)
    for alloc in placed(plan):
        set_health(h, alloc.id, True)
    d = deployment(h, v1)
    state = msgspec.structs.replace(d.task_groups["web"], healthy_allocs=2)
    h.state.upsert_deployment(msgspec.structs.replace(d, task_groups={"web": state}))
    plan = run(h, v1)
    assert [(u.status, u.status_description) for u in plan.deployment_updates] == [
        ("successful", "Deployment completed successfully")
    ]


def test_a_multiregion_deployment_starts_pending_and_ends_blocked() -> None:
    h = cluster()
    job = mock_job(multiregion=Multiregion())
    job.task_groups[0].count = 2
    job.task_groups[0].update = UpdateStrategy(max_parallel=1)
    job = h.state.upsert_job(job)
    plan = run(h, job)
    d = plan.deployment
    assert d is not None and d.is_multiregion and d.status == "pending"
    assert placed(plan) == []  # nothing until the coordinator runs it
    h.state.upsert_deployment(msgspec.structs.replace(deployment(h, job), status="running"))
    plan = run(h, job)
    assert plan.deployment is None and len(placed(plan)) == 2
    for alloc in placed(plan):
        set_health(h, alloc.id, True)
    stored = deployment(h, job)
    state = msgspec.structs.replace(stored.task_groups["web"], healthy_allocs=2)
    h.state.upsert_deployment(
        msgspec.structs.replace(stored, status="running", task_groups={"web": state})
    )
    plan = run(h, job)
    assert [u.status for u in plan.deployment_updates] == ["blocked"]


def test_canaries_are_placed_first_and_the_rollout_waits_for_promotion() -> None:
    h = cluster()
    job = first_version(h, count=3, strategy=UpdateStrategy(max_parallel=1, canary=1))
    v1 = new_version(h, job)
    plan = run(h, v1)
    assert plan.deployment is not None
    assert plan.deployment.task_groups["web"].desired_canaries == 1
    canaries = placed(plan)
    assert len(canaries) == 1 and stopped(plan) == []
    canary = canaries[0]
    assert canary.deployment_status is not None and canary.deployment_status.canary
    assert canary.index() == 0  # named after the first alloc it will replace
    # healthy but not promoted: nothing else happens
    set_health(h, canary.id, True, canary=True)
    d = deployment(h, v1)
    state = msgspec.structs.replace(
        d.task_groups["web"], placed_canaries=[canary.id], healthy_allocs=1
    )
    h.state.upsert_deployment(msgspec.structs.replace(d, task_groups={"web": state}))
    assert try_run(h, v1) == Plan()
    # promoted: the old alloc the canary replaces stops, one more is replaced (max_parallel 1)
    promoted = msgspec.structs.replace(state, promoted=True)
    h.state.upsert_deployment(msgspec.structs.replace(d, task_groups={"web": promoted}))
    plan = run(h, v1)
    assert sorted(a.index() for a in stopped(plan)) == [0, 1]
    assert [a.index() for a in placed(plan)] == [1]


def test_scaling_up_is_part_of_the_deployment() -> None:
    h = cluster()
    job = first_version(h, count=2)
    bigger = copy.deepcopy(job)
    bigger.task_groups[0].count = 4
    bigger = h.state.upsert_job(bigger)
    plan = run(h, bigger)
    assert plan.deployment is not None
    new = [a for a in placed(plan) if a.create_index == 0]
    assert len(new) >= 2 and {a.deployment_id for a in placed(plan)} == {plan.deployment.id}


def test_stopping_the_job_cancels_its_running_deployment() -> None:
    h = cluster()
    job = first_version(h, count=2)
    v1 = new_version(h, job)
    run(h, v1)
    d = deployment(h, v1)
    stopped_job = h.state.upsert_job(msgspec.structs.replace(v1, stop=True))
    plan = run(h, stopped_job)
    assert [(u.deployment_id, u.status, u.status_description) for u in plan.deployment_updates] == [
        (d.id, "cancelled", "Cancelled because job is stopped")
    ]


def test_a_paused_deployment_still_replaces_lost_allocations() -> None:
    h = cluster()
    job = first_version(h, count=3)
    v1 = new_version(h, job)
    run(h, v1)
    d = deployment(h, v1)
    h.state.upsert_deployment(msgspec.structs.replace(d, status="paused"))
    old = next(
        a for a in h.state.allocs.values() if a.job and a.job.version == 0 and not a.terminal()
    )
    node = h.state.nodes_by_id[old.node_id]
    h.state.upsert_node(msgspec.structs.replace(node, status="down"))
    plan = run(h, v1)
    assert [a.previous_allocation for a in placed(plan)] == [old.id]
    assert old.id in {a.id for a in stopped(plan)}


def test_a_failed_deployment_does_not_reschedule_its_own_failed_allocs() -> None:
    h = cluster()
    job = first_version(h, count=2)
    v1 = new_version(h, job)
    new = placed(run(h, v1))
    d = deployment(h, v1)
    h.state.upsert_deployment(msgspec.structs.replace(d, status="failed"))
    failed = h.state.allocs[new[0].id]
    h.state.allocs[failed.id] = msgspec.structs.replace(
        failed, client_status="failed", modify_time=NOW - 3600 * SECOND
    )
    plan = try_run(h, v1)
    assert placed(plan) == []
