"""The Harness as a Planner: plan application, partial commits, rejections."""

from __future__ import annotations

from nomadic.structs import Plan
from nomadic.testing.factories import mock_alloc, mock_job, mock_node
from nomadic.testing.harness import Harness


def test_partial_commit_rejects_only_the_named_nodes() -> None:
    h = Harness()
    a, b = h.state.upsert_node(mock_node()), h.state.upsert_node(mock_node())
    job = h.state.upsert_job(mock_job())
    plan = Plan(job=job)
    plan.append_alloc(mock_alloc(job, a, index=0))
    plan.append_alloc(mock_alloc(job, b, index=1))
    h.reject_nodes = {b.id}
    result, refreshed = h.submit_plan(plan)
    assert list(result.node_allocation) == [a.id]
    assert result.rejected_nodes == [b.id]
    assert refreshed is not None and result.refresh_index == h.state.index
    assert [x.node_id for x in refreshed.allocs_by_job(job.namespace, job.id)] == [a.id]
    assert result.full_commit(plan) == (False, 2, 1)


def test_applier_rejects_node_that_no_longer_fits() -> None:
    h = Harness()
    node = h.state.upsert_node(mock_node())
    job = h.state.upsert_job(mock_job())
    big = mock_alloc(job, node, index=0)
    big.allocated_resources.tasks["web"].memory.memory_mb = 9000
    result, refreshed = h.submit_plan(Plan(job=job, node_allocation={node.id: [big]}))
    assert result.rejected_nodes == [node.id] and refreshed is not None


def test_full_commit_applies_and_links_previous_alloc() -> None:
    h = Harness()
    node = h.state.upsert_node(mock_node())
    job = h.state.upsert_job(mock_job())
    old = mock_alloc(job, node, index=0, client_status="failed")
    h.state.upsert_allocs([old])
    new = mock_alloc(job, node, index=0, previous_allocation=old.id)
    result, refreshed = h.submit_plan(Plan(job=job, node_allocation={node.id: [new]}))
    assert refreshed is None and result.full_commit(Plan(node_allocation={node.id: [new]}))[0]
    assert h.state.alloc_by_id(old.id).next_allocation == new.id
    stored = h.state.alloc_by_id(new.id)
    assert stored.create_index == stored.modify_index == h.state.index


def test_rejected_plan_commits_nothing() -> None:
    h = Harness()
    node = h.state.upsert_node(mock_node())
    job = h.state.upsert_job(mock_job())
    h.reject_plans = 1
    result, refreshed = h.submit_plan(
        Plan(job=job, node_allocation={node.id: [mock_alloc(job, node)]})
    )
    assert result.node_allocation == {} and refreshed is not None
    assert h.state.allocs_by_job(job.namespace, job.id) == []
