"""Deployments in the state: plan-created, counted from allocation writes, status changes
(successful marks the job version stable), promotion, snapshot/restore and events."""

from __future__ import annotations

import msgspec
from state_factories import alloc, job, node

from nomadic.state import FSM
from nomadic.state.entries import (
    AllocClientUpdate,
    ApplyPlanResults,
    DeploymentAllocHealthRequest,
    DeploymentPromoteRequest,
    DeploymentStatusUpdateRequest,
    JobRegister,
    MessageType,
    NodeRegister,
    encode_entry,
)
from nomadic.state.events import events_for
from nomadic.structs import (
    AllocDeploymentStatus,
    AllocUpdate,
    Deployment,
    DeploymentState,
    DeploymentStatusUpdate,
)

SECOND = 1_000_000_000


def _deployment(web_version: int = 0, canaries: int = 0) -> Deployment:
    return Deployment(
        id="d1",
        job_id="web",
        job_version=web_version,
        task_groups={
            "g": DeploymentState(
                desired_total=2, desired_canaries=canaries, progress_deadline=60 * SECOND
            )
        },
    )


def _placed(fsm: FSM, index: int, *ids: str, canary: bool = False) -> None:
    web = fsm.store.snapshot().job_by_id("default", "web")
    assert web is not None
    status = AllocDeploymentStatus(canary=True) if canary else None
    allocs = [
        msgspec.structs.replace(
            alloc(i, web), deployment_id="d1", deployment_status=status, modify_time=5 * SECOND
        )
        for i in ids
    ]
    fsm.apply(index, encode_entry(ApplyPlanResults(allocs_updated=allocs), f"p{index}"))


def _healthy(fsm: FSM, index: int, alloc_id: str, healthy: bool = True) -> None:
    health = AllocDeploymentStatus(healthy=healthy, timestamp=10 * SECOND)
    update = AllocUpdate(id=alloc_id, client_status="running", deployment_status=health)
    fsm.apply(index, encode_entry(AllocClientUpdate(allocs=[update]), f"h{index}"))


def _fsm() -> FSM:
    fsm = FSM()
    fsm.apply(1, encode_entry(NodeRegister(node=node("n1")), "n"))
    fsm.apply(2, encode_entry(JobRegister(job=job("web", count=2)), "j"))
    plan = ApplyPlanResults(deployment=_deployment(), updated_at=3 * SECOND)
    fsm.apply(3, encode_entry(plan, "d"))
    return fsm


def test_a_plan_deployment_is_stored_and_indexed_by_job() -> None:
    snap = _fsm().store.snapshot()
    d = snap.deployment_by_id("d1")
    assert d is not None and (d.create_index, d.status) == (3, "running")
    assert snap.latest_deployment_by_job("default", "web") == d
    assert [x.id for x in snap.deployments()] == ["d1"]


def test_placements_and_client_health_count_into_the_deployment() -> None:
    fsm = _fsm()
    _placed(fsm, 4, "a1", "a2")
    _healthy(fsm, 5, "a1")
    _healthy(fsm, 6, "a2", healthy=False)
    _healthy(fsm, 7, "a2", healthy=True)  # a verdict is taken once
    d = fsm.store.snapshot().deployment_by_id("d1")
    assert d is not None
    state = d.task_groups["g"]
    assert (state.placed_allocs, state.healthy_allocs, state.unhealthy_allocs) == (2, 1, 1)
    # the progress deadline starts at the first placement and moves with healthy allocs
    assert state.require_progress_by == 70 * SECOND


def test_a_successful_deployment_marks_the_job_version_stable() -> None:
    fsm = _fsm()
    update = DeploymentStatusUpdate(
        deployment_id="d1", status="successful", status_description="done"
    )
    fsm.apply(4, encode_entry(DeploymentStatusUpdateRequest(deployment_update=update), "s"))
    snap = fsm.store.snapshot()
    web = snap.job_by_id("default", "web")
    assert web is not None and web.stable
    assert snap.job_versions("default", "web")[0].stable
    d = snap.deployment_by_id("d1")
    assert d is not None and (d.status, d.status_description) == ("successful", "done")


def test_promotion_promotes_groups_and_clears_the_canary_flag() -> None:
    fsm = FSM()
    fsm.apply(1, encode_entry(NodeRegister(node=node("n1")), "n"))
    fsm.apply(2, encode_entry(JobRegister(job=job("web", count=2)), "j"))
    fsm.apply(3, encode_entry(ApplyPlanResults(deployment=_deployment(canaries=1)), "d"))
    _placed(fsm, 4, "c1", canary=True)
    d = fsm.store.snapshot().deployment_by_id("d1")
    assert d is not None and d.task_groups["g"].placed_canaries == ["c1"]
    fsm.apply(5, encode_entry(DeploymentPromoteRequest(deployment_id="d1", all=True), "p"))
    snap = fsm.store.snapshot()
    d = snap.deployment_by_id("d1")
    c1 = snap.alloc_by_id("c1")
    assert d is not None and d.task_groups["g"].promoted
    assert c1 is not None and c1.deployment_status is not None
    assert not c1.deployment_status.canary


def test_server_alloc_health_and_status_in_one_entry() -> None:
    fsm = _fsm()
    _placed(fsm, 4, "a1")
    fail = DeploymentStatusUpdate(deployment_id="d1", status="failed", status_description="x")
    req = DeploymentAllocHealthRequest(
        deployment_id="d1", unhealthy_allocation_ids=["a1"], timestamp=9, deployment_update=fail
    )
    fsm.apply(5, encode_entry(req, "h"))
    d = fsm.store.snapshot().deployment_by_id("d1")
    assert d is not None and d.status == "failed" and d.task_groups["g"].unhealthy_allocs == 1


def test_deployments_survive_snapshot_restore() -> None:
    fsm = _fsm()
    _placed(fsm, 4, "a1")
    restored = FSM()
    restored.restore(fsm.snapshot())
    assert restored.snapshot() == fsm.snapshot()
    snap = restored.store.snapshot()
    assert [d.id for d in snap.deployments_by_job("default", "web")] == ["d1"]


def test_deployment_events_are_published() -> None:
    fsm = _fsm()
    before = fsm.store.snapshot()
    update = DeploymentStatusUpdate(deployment_id="d1", status="paused", status_description="p")
    payload = DeploymentStatusUpdateRequest(deployment_update=update)
    fsm.apply(4, encode_entry(payload, "s"))
    mtype = MessageType.DEPLOYMENT_STATUS_UPDATE
    events = events_for(4, mtype, payload, before, fsm.store.snapshot())
    assert [(e.topic, e.type, e.key) for e in events] == [
        ("Deployment", "DeploymentStatusUpdate", "d1")
    ]
    assert events[0].to_json()["Payload"]["Deployment"]["Status"] == "paused"
