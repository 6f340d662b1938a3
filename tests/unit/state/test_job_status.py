"""Job status as the store keeps it: re-derived only when an allocation's terminal state, an
evaluation or the job changes, and always equal to Nomad's getJobStatus over the whole job."""

from __future__ import annotations

import random

import msgspec
import pytest
from state_factories import alloc, evaluation, job

from nomadic.state import StateStore
from nomadic.state.summary import job_status
from nomadic.structs import AllocUpdate, Job, ParameterizedJobConfig, PeriodicConfig

_replace = msgspec.structs.replace


def _status(store: StateStore, job_id: str = "web") -> str:
    j = store.snapshot().job_by_id("default", job_id)
    assert j is not None
    return j.status


def _recomputed(store: StateStore, job_id: str = "web") -> str:
    snap = store.snapshot()
    j = snap.job_by_id("default", job_id)
    assert j is not None
    return job_status(
        j, snap.allocs_by_job("default", job_id), snap.evals_by_job("default", job_id)
    )


def _client(store: StateStore, index: int, alloc_id: str, status: str) -> None:
    store.update_allocs_from_client(index, [AllocUpdate(id=alloc_id, client_status=status)])


@pytest.mark.parametrize(
    ("job_type", "final", "expected"),
    [
        ("service", "complete", "dead"),
        ("batch", "complete", "dead"),
        ("batch", "failed", "dead"),
        ("batch", "lost", "dead"),
    ],
)
def test_pending_running_dead(job_type: str, final: str, expected: str) -> None:
    store = StateStore()
    j = job("web", job_type=job_type, count=2)
    store.upsert_job(1, j)
    assert _status(store) == "pending"
    store.upsert_evals(2, [evaluation("e1", j)])
    assert _status(store) == "pending"
    store.upsert_allocs(3, [alloc("a1", j), alloc("a2", j)])
    store.upsert_evals(4, [evaluation("e1", j, status="complete")])
    assert _status(store) == "running"
    _client(store, 5, "a1", "running")
    _client(store, 6, "a2", "running")
    assert _status(store) == "running"
    _client(store, 7, "a1", final)
    assert _status(store) == "running"  # a2 still runs
    _client(store, 8, "a2", final)
    assert _status(store) == expected


def test_a_running_job_stays_running_while_its_allocations_go_pending_to_running() -> None:
    store = StateStore()
    j = job("web", count=3)
    store.upsert_job(1, j)
    store.upsert_allocs(2, [alloc(f"a{i}", j) for i in range(3)])
    modify = store.snapshot().job_by_id("default", "web").modify_index  # type: ignore[union-attr]
    store.update_allocs_from_client(
        3, [AllocUpdate(id=f"a{i}", client_status="running") for i in range(3)]
    )
    after = store.snapshot().job_by_id("default", "web")
    assert after is not None and (after.status, after.modify_index) == ("running", modify)


def test_stopping_allocations_on_the_server_makes_a_stopped_job_dead() -> None:
    store = StateStore()
    j = job("web", count=1)
    store.upsert_job(1, j)
    store.upsert_allocs(2, [alloc("a1", j)])
    _client(store, 3, "a1", "running")
    store.upsert_job(4, _replace(j, stop=True))
    assert _status(store) == "running"  # the allocation still runs
    stored = store.snapshot().alloc_by_id("a1")
    assert stored is not None
    store.upsert_allocs(5, [_replace(stored, desired_status="stop")])
    assert _status(store) == "dead"  # client still says running; the server stopped it


def test_an_open_evaluation_keeps_a_job_without_live_allocations_pending() -> None:
    store = StateStore()
    j = job("web", job_type="batch")
    store.upsert_job(1, j)
    store.upsert_allocs(2, [alloc("a1", j)])
    _client(store, 3, "a1", "failed")
    assert _status(store) == "dead"
    store.upsert_evals(4, [evaluation("e2", j)])  # a reschedule evaluation
    assert _status(store) == "pending"
    store.upsert_evals(5, [evaluation("e2", j, status="complete")])
    assert _status(store) == "dead"


@pytest.mark.parametrize(
    "template",
    [
        {"periodic": PeriodicConfig(spec="*/5 * * * *")},
        {"parameterized_job": ParameterizedJobConfig()},
        {"type": "system"},
    ],
    ids=["periodic", "parameterized", "system"],
)
def test_parents_and_system_jobs_run_until_stopped(template: dict[str, object]) -> None:
    store = StateStore()
    j = _replace(job("web", job_type="batch"), **template)
    store.upsert_job(1, j)
    assert _status(store) == "running"
    store.upsert_allocs(2, [alloc("a1", j)])
    _client(store, 3, "a1", "complete")
    assert _status(store) == "running"
    store.upsert_job(4, _replace(j, stop=True))
    assert _status(store) == "dead"


def test_a_childs_status_moves_its_parents_children_counts() -> None:
    store = StateStore()
    parent = _replace(job("report", job_type="batch"), parameterized_job=ParameterizedJobConfig())
    store.upsert_job(1, parent)
    child = _replace(
        job("report/dispatch-1", job_type="batch"), parent_id="report", dispatched=True
    )
    store.upsert_job(2, child)

    def children() -> tuple[int, int, int]:
        s = store.snapshot().job_summary("default", "report")
        assert s is not None
        return (s.children.pending, s.children.running, s.children.dead)

    assert children() == (1, 0, 0)
    store.upsert_allocs(3, [alloc("c1", child)])
    assert children() == (0, 1, 0)
    _client(store, 4, "c1", "running")
    assert children() == (0, 1, 0)
    _client(store, 5, "c1", "complete")
    assert children() == (0, 0, 1)
    assert _status(store, "report/dispatch-1") == "dead"


def test_random_writes_keep_the_status_equal_to_a_full_recomputation() -> None:
    rng = random.Random(4)
    store = StateStore()
    jobs: dict[str, Job] = {}
    allocs: dict[str, str] = {}  # alloc ID -> job ID
    evals: dict[str, str] = {}
    statuses = ["pending", "running", "complete", "failed", "lost"]
    for index in range(1, 600):
        op = rng.random()
        if op < 0.1 or not jobs:
            jid = f"j{rng.randrange(4)}"
            base = jobs.get(jid) or job(jid, job_type=rng.choice(["service", "batch"]))
            jobs[jid] = store.upsert_job(index, _replace(base, stop=rng.random() < 0.2))
        elif op < 0.3:
            jid = rng.choice(sorted(jobs))
            aid = f"a{index}"
            allocs[aid] = jid
            store.upsert_allocs(index, [alloc(aid, jobs[jid])])
        elif op < 0.4:
            jid = rng.choice(sorted(jobs))
            eid = rng.choice([*evals, f"e{index}"]) if evals else f"e{index}"
            evals.setdefault(eid, jid)
            status = rng.choice(["pending", "complete", "failed", "blocked"])
            store.upsert_evals(index, [evaluation(eid, jobs[evals[eid]], status=status)])
        elif op < 0.5 and allocs:
            stored = store.snapshot().alloc_by_id(rng.choice(sorted(allocs)))
            assert stored is not None
            desired = rng.choice(["run", "stop", "evict"])
            store.upsert_allocs(index, [_replace(stored, desired_status=desired)])
        elif allocs:
            picked = rng.sample(sorted(allocs), min(len(allocs), rng.randrange(1, 4)))
            store.update_allocs_from_client(
                index, [AllocUpdate(id=a, client_status=rng.choice(statuses)) for a in picked]
            )
        for jid in jobs:
            assert _status(store, jid) == _recomputed(store, jid), f"{jid} after write {index}"
