"""Plan applier: nodes are re-checked against the latest state; what fits is committed."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from server_fakes import make_alloc, make_job, make_node

from nomadic.errors import NoLeaderError
from nomadic.server.plan_apply import PlanApplier, evaluate_plan, plan_results_entry
from nomadic.server.plan_queue import PlanQueue
from nomadic.state import FSM
from nomadic.state.entries import ApplyPlanResults, JobRegister, NodeRegister, encode_entry
from nomadic.structs import AllocatedDeviceResource, Allocation, Plan


def _state_with_busy_node() -> FSM:
    """n1 has 1024 MB with 600 MB already used; n2 is empty."""
    fsm = FSM()
    job = make_job()
    fsm.apply(1, encode_entry(JobRegister(job=job), "r1"))
    fsm.apply(2, encode_entry(NodeRegister(node=make_node("n1")), "r2"))
    fsm.apply(3, encode_entry(NodeRegister(node=make_node("n2")), "r3"))
    busy = make_alloc(job, "n1", memory_mb=600)
    fsm.apply(4, encode_entry(ApplyPlanResults(allocs_updated=[busy]), "r4"))
    return fsm


def _plan(*placements: tuple[str, int], all_at_once: bool = False) -> Plan:
    job = make_job()
    plan = Plan(eval_id="e1", job=job, all_at_once=all_at_once)
    for node_id, memory in placements:
        plan.append_alloc(make_alloc(job, node_id, memory_mb=memory))
    return plan


def test_partial_commit_drops_the_over_full_node() -> None:
    fsm = _state_with_busy_node()
    result = evaluate_plan(fsm.store.snapshot(), _plan(("n1", 600), ("n2", 600)))
    assert list(result.node_allocation) == ["n2"]
    assert result.rejected_nodes == ["n1"]
    assert result.refresh_index == 4
    assert result.full_commit(_plan(("n1", 600), ("n2", 600)))[0] is False


def test_all_at_once_rejects_everything_on_one_misfit() -> None:
    fsm = _state_with_busy_node()
    result = evaluate_plan(fsm.store.snapshot(), _plan(("n1", 600), ("n2", 600), all_at_once=True))
    assert result.node_allocation == {}
    assert sorted(result.rejected_nodes) == ["n1", "n2"]


def test_unknown_and_down_nodes_are_rejected_but_stops_always_fit() -> None:
    fsm = FSM()
    fsm.apply(1, encode_entry(NodeRegister(node=make_node("down", status="down")), "r1"))
    job = make_job()
    plan = _plan(("ghost", 100), ("down", 100))
    plan.append_stopped_alloc(make_alloc(job, "elsewhere"))
    result = evaluate_plan(fsm.store.snapshot(), plan)
    assert sorted(result.rejected_nodes) == ["down", "ghost"]
    assert list(result.node_update) == ["elsewhere"]


async def test_applier_never_overcommits_with_a_plan_in_flight() -> None:
    fsm = _state_with_busy_node()
    queue = PlanQueue()
    queue.set_enabled(True)
    index = iter(range(10, 100))

    async def commit(entry: ApplyPlanResults) -> int:
        await asyncio.sleep(0.02)  # raft latency: the next plan is checked meanwhile
        i = next(index)
        assert not fsm.apply(i, encode_entry(entry, f"c{i}")).error
        return i

    applier = PlanApplier(queue, fsm.store, commit)
    task = asyncio.ensure_future(applier.run())
    first = queue.enqueue(_plan(("n2", 600)))
    second = queue.enqueue(_plan(("n2", 600)))
    r1, r2 = await asyncio.gather(first, second)
    assert list(r1.node_allocation) == ["n2"] and r1.alloc_index == 10
    assert r2.rejected_nodes == ["n2"] and r2.node_allocation == {}
    used = sum(
        a.allocated_resources.comparable()[1] for a in fsm.store.snapshot().allocs_by_node("n2")
    )
    assert used == 600
    queue.set_enabled(False)
    await task


async def test_disabling_the_queue_fails_waiting_plans() -> None:
    queue = PlanQueue()
    queue.set_enabled(True)
    fut = queue.enqueue(_plan(("n1", 1)))
    queue.set_enabled(False)
    with pytest.raises(NoLeaderError):
        await fut


async def test_plan_queue_serves_higher_priority_first_then_fifo() -> None:
    queue = PlanQueue()
    queue.set_enabled(True)
    for eval_id, priority in (("low", 10), ("first50", 50), ("high", 90), ("second50", 50)):
        queue.enqueue(Plan(eval_id=eval_id, priority=priority))
    order = [(await queue.dequeue()).plan.eval_id for _ in range(4)]
    assert order == ["high", "first50", "second50", "low"]
    queue.set_enabled(False)


def test_preemptions_make_room_and_create_evals_for_the_preempted_job() -> None:
    fsm = _state_with_busy_node()
    snap = fsm.store.snapshot()
    (busy,) = snap.allocs_by_node("n1")
    plan = _plan(("n1", 600))
    assert evaluate_plan(snap, plan).rejected_nodes == ["n1"]  # does not fit as is
    plan.node_preemptions["n1"] = [msgspec.structs.replace(busy, desired_status="evict")]
    result = evaluate_plan(snap, plan)
    assert result.rejected_nodes == []
    assert [a.id for a in result.node_preemptions["n1"]] == [busy.id]
    entry = plan_results_entry(plan, result, 123)
    assert [a.id for a in entry.allocs_preempted] == [busy.id]
    (ev,) = entry.evals
    assert (ev.job_id, ev.triggered_by, ev.status) == ("web", "preemption", "pending")
    fsm.apply(5, encode_entry(entry, "r5"))
    after = fsm.store.snapshot()
    assert after.alloc_by_id(busy.id).desired_status == "evict"  # type: ignore[union-attr]
    assert after.eval_by_id(ev.id) is not None


def test_preemption_of_an_already_terminal_alloc_is_dropped() -> None:
    fsm = _state_with_busy_node()
    snap = fsm.store.snapshot()
    (busy,) = snap.allocs_by_node("n1")
    stopped = msgspec.structs.replace(busy, desired_status="stop")
    fsm.apply(5, encode_entry(ApplyPlanResults(allocs_stopped=[stopped]), "r5"))
    plan = _plan(("n1", 100))
    plan.node_preemptions["n1"] = [msgspec.structs.replace(busy, desired_status="evict")]
    result = evaluate_plan(fsm.store.snapshot(), plan)
    assert result.node_preemptions == {}
    assert plan_results_entry(plan, result, 1).evals == []


def _with_gpu(alloc: Allocation, instance: str) -> Allocation:
    task = alloc.allocated_resources.tasks["t"]
    task.devices = [
        AllocatedDeviceResource(vendor="nvidia", type="gpu", name="T4", device_ids=[instance])
    ]
    return alloc


def test_a_gpu_instance_already_held_is_not_given_again() -> None:
    fsm = _state_with_busy_node()
    job = make_job()
    holder = _with_gpu(make_alloc(job, "n2", memory_mb=100), "GPU-0")
    fsm.apply(5, encode_entry(ApplyPlanResults(allocs_updated=[holder]), "r5"))
    plan = Plan(eval_id="e2", job=job)
    plan.append_alloc(_with_gpu(make_alloc(job, "n2", memory_mb=100, index=1), "GPU-0"))
    result = evaluate_plan(fsm.store.snapshot(), plan)
    assert result.rejected_nodes == ["n2"]
    free = Plan(eval_id="e3", job=job)
    free.append_alloc(_with_gpu(make_alloc(job, "n2", memory_mb=100, index=1), "GPU-1"))
    assert list(evaluate_plan(fsm.store.snapshot(), free).node_allocation) == ["n2"]
