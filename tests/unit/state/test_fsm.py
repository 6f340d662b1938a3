"""FSM: determinism, snapshot/restore, request-ID dedupe, listeners."""

from __future__ import annotations

import msgspec
from state_factories import alloc, evaluation, job, node

from nomadic.state import FSM
from nomadic.state.entries import (
    AllocClientUpdate,
    ApplyPlanResults,
    EvalUpdateRequest,
    JobDeregister,
    JobRegister,
    NodeRegister,
    NodeUpdateStatus,
    encode_entry,
)
from nomadic.structs import AllocUpdate, Evaluation


def _entries() -> list[bytes]:
    web = job("web", count=2)
    return [
        encode_entry(NodeRegister(node=node("n1")), "r1"),
        encode_entry(JobRegister(job=web, eval=evaluation("e1", web)), "r2"),
        encode_entry(
            ApplyPlanResults(eval_id="e1", allocs_updated=[alloc("a1", web), alloc("a2", web)]),
            "r3",
        ),
        encode_entry(EvalUpdateRequest(evals=[evaluation("e1", web, status="complete")]), "r4"),
        encode_entry(
            AllocClientUpdate(allocs=[AllocUpdate(id="a1", client_status="running")]), "r5"
        ),
        encode_entry(NodeUpdateStatus(node_id="n1", status="down", updated_at=99), "r6"),
        encode_entry(JobDeregister(namespace="default", job_id="web", submit_time=5), "r7"),
    ]


def _run(entries: list[bytes]) -> FSM:
    fsm = FSM()
    for i, entry in enumerate(entries, start=1):
        fsm.apply(i, entry)
    return fsm


def test_same_entries_give_the_same_state() -> None:
    a, b = _run(_entries()), _run(_entries())
    assert a.snapshot() == b.snapshot()
    web = a.store.snapshot().job_by_id("default", "web")
    assert web is not None and web.stop and web.version == 1


def test_snapshot_restore_round_trip_rebuilds_indexes() -> None:
    fsm = _run(_entries())
    restored = FSM()
    restored.restore(fsm.snapshot())
    assert restored.snapshot() == fsm.snapshot()
    assert restored.last_index == fsm.last_index
    snap = restored.store.snapshot()
    assert [a.id for a in snap.allocs_by_node("n1")] == ["a1", "a2"]
    assert [a.id for a in snap.allocs_by_job("default", "web")] == ["a1", "a2"]
    assert [e.id for e in snap.evals_by_job("default", "web")] == ["e1"]
    assert snap.latest_index() == fsm.store.snapshot().latest_index()


def test_restored_fsm_keeps_applying_like_the_original() -> None:
    entries = _entries()
    full = _run(entries)
    half = _run(entries[:4])
    other = FSM()
    other.restore(half.snapshot())
    for i, entry in enumerate(entries[4:], start=5):
        other.apply(i, entry)
    assert other.snapshot() == full.snapshot()


def test_a_retried_request_is_applied_once() -> None:
    fsm = FSM()
    n = node("n1")
    entry = encode_entry(NodeRegister(node=n), "same-id")
    first = fsm.apply(1, entry)
    changed = encode_entry(NodeRegister(node=msgspec.structs.replace(n, name="x")), "same-id")
    second = fsm.apply(2, changed)
    assert not first.duplicate and second.duplicate
    assert second.index == 1
    stored = fsm.store.snapshot().node_by_id("n1")
    assert stored is not None and stored.name == "n1" and stored.modify_index == 1


def test_an_undecodable_entry_is_reported_not_raised() -> None:
    fsm = FSM()
    result = fsm.apply(1, b"\x93garbage")
    assert result.error
    assert fsm.store.snapshot().latest_index() == 0


def test_job_register_stamps_the_eval_with_the_job_modify_index() -> None:
    web = job()
    fsm = FSM()
    fsm.apply(10, encode_entry(JobRegister(job=web, eval=evaluation("e1", web)), "r"))
    ev = fsm.store.snapshot().eval_by_id("e1")
    assert ev is not None and (ev.job_modify_index, ev.create_index) == (10, 10)


def test_listeners_hear_upserted_evals_and_freed_capacity() -> None:
    fsm = FSM()
    heard: list[list[Evaluation]] = []
    freed: list[int] = []
    fsm.add_eval_listener(heard.append)
    fsm.add_capacity_listener(lambda index, _classes: freed.append(index))
    web = job()
    fsm.apply(1, encode_entry(JobRegister(job=web, eval=evaluation("e1", web)), "r1"))
    fsm.apply(2, encode_entry(ApplyPlanResults(allocs_updated=[alloc("a1", web)]), "r2"))
    fsm.apply(
        3,
        encode_entry(
            AllocClientUpdate(allocs=[AllocUpdate(id="a1", client_status="failed")]), "r3"
        ),
    )
    fsm.apply(4, encode_entry(NodeRegister(node=node("n2")), "r4"))
    assert [[e.id for e in evs] for evs in heard] == [["e1"]]
    assert heard[0][0].create_index == 1
    assert freed == [3, 4]


def test_a_snapshot_restore_entry_replaces_state_and_moves_indexes_forward() -> None:
    from nomadic.state.entries import SnapshotRestore

    saved = _run(_entries())
    target = FSM()
    for i in range(1, 21):
        target.apply(i, encode_entry(NodeRegister(node=node(f"other-{i}")), f"o{i}"))
    target.apply(21, encode_entry(SnapshotRestore(data=saved.snapshot()), "restore"))
    snap = target.store.snapshot()
    assert [n.id for n in snap.nodes()] == ["n1"]
    assert [a.id for a in snap.allocs_by_job("default", "web")] == ["a1", "a2"]
    assert snap.latest_index() == 21
    assert all(index == 21 for index in snap.tables.table_index.values())
