"""StateStore: snapshot isolation, indexes, job versions, summaries and job status."""

from __future__ import annotations

import msgspec
from state_factories import alloc, evaluation, job, node

from nomadic.state import StateStore
from nomadic.structs import AllocUpdate


def test_snapshot_does_not_see_later_writes() -> None:
    store = StateStore()
    store.upsert_node(1, node("n1"))
    snap = store.snapshot()
    store.upsert_node(2, node("n2"))
    store.upsert_job(3, job("web"))
    assert [n.id for n in snap.nodes()] == ["n1"]
    assert snap.job_by_id("default", "web") is None
    assert snap.latest_index() == 1
    assert [n.id for n in store.snapshot().nodes()] == ["n1", "n2"]


def test_table_indexes_track_the_last_write_per_table() -> None:
    store = StateStore()
    store.upsert_node(5, node())
    store.upsert_job(7, job())
    snap = store.snapshot()
    assert snap.table_index("nodes") == 5
    assert snap.table_index("jobs") == 7
    assert snap.table_index("allocs") == 0
    assert snap.latest_index() == 7


def test_secondary_indexes_find_allocs_by_job_node_and_eval() -> None:
    store = StateStore()
    web, api = job("web"), job("api")
    store.upsert_job(1, web)
    store.upsert_job(2, api)
    store.upsert_allocs(
        3, [alloc("a1", web, "n1"), alloc("a2", web, "n2", eval_id="e2"), alloc("a3", api, "n1")]
    )
    snap = store.snapshot()
    assert [a.id for a in snap.allocs_by_job("default", "web")] == ["a1", "a2"]
    assert [a.id for a in snap.allocs_by_node("n1")] == ["a1", "a3"]
    assert [a.id for a in snap.allocs_by_eval("e2")] == ["a2"]
    assert [a.id for a in snap.allocs(prefix="a")] == ["a1", "a2", "a3"]


def test_moving_an_alloc_updates_the_node_index() -> None:
    store = StateStore()
    web = job()
    store.upsert_allocs(1, [alloc("a1", web, "n1")])
    store.upsert_allocs(2, [msgspec.structs.replace(alloc("a1", web, "n1"), node_id="n2")])
    snap = store.snapshot()
    assert snap.allocs_by_node("n1") == []
    assert [a.id for a in snap.allocs_by_node("n2")] == ["a1"]
    assert snap.alloc_by_id("a1").create_index == 1  # type: ignore[union-attr]


def test_job_version_bumps_only_when_the_spec_changes() -> None:
    store = StateStore()
    store.upsert_job(1, job(image="a"))
    store.upsert_job(2, job(image="a"))
    same = store.snapshot().job_by_id("default", "web")
    assert same is not None
    assert (same.version, same.job_modify_index, same.create_index) == (0, 1, 1)
    store.upsert_job(3, job(image="b"))
    changed = store.snapshot().job_by_id("default", "web")
    assert changed is not None
    assert (changed.version, changed.job_modify_index, changed.modify_index) == (1, 3, 3)


def test_only_six_job_versions_are_kept_newest_first() -> None:
    store = StateStore()
    for i in range(8):
        store.upsert_job(i + 1, job(image=f"v{i}"))
    versions = store.snapshot().job_versions("default", "web")
    assert [v.version for v in versions] == [7, 6, 5, 4, 3, 2]


def test_job_summary_counts_follow_alloc_client_status() -> None:
    store = StateStore()
    web = job(count=2)
    store.upsert_job(1, web)
    ev = msgspec.structs.replace(evaluation("e1", web), queued_allocations={"g": 2})
    store.upsert_evals(2, [ev])
    assert store.snapshot().job_summary("default", "web").summary["g"].queued == 2  # type: ignore[union-attr]
    store.upsert_allocs(3, [alloc("a1", web), alloc("a2", web)])
    counts = store.snapshot().job_summary("default", "web").summary["g"]  # type: ignore[union-attr]
    assert (counts.queued, counts.starting, counts.running) == (0, 2, 0)
    store.update_allocs_from_client(
        4,
        [
            AllocUpdate(id="a1", client_status="running"),
            AllocUpdate(id="a2", client_status="failed"),
        ],
    )
    counts = store.snapshot().job_summary("default", "web").summary["g"]  # type: ignore[union-attr]
    assert (counts.starting, counts.running, counts.failed) == (0, 1, 1)
    store.update_allocs_from_client(5, [AllocUpdate(id="a1", client_status="complete")])
    counts = store.snapshot().job_summary("default", "web").summary["g"]  # type: ignore[union-attr]
    assert (counts.running, counts.complete, counts.failed) == (0, 1, 1)


def test_job_status_goes_pending_running_dead() -> None:
    store = StateStore()
    batch = job("report", job_type="batch")
    store.upsert_job(1, batch)

    def status() -> str:
        j = store.snapshot().job_by_id("default", "report")
        assert j is not None
        return j.status

    assert status() == "pending"
    store.upsert_evals(2, [evaluation("e1", batch)])
    assert status() == "pending"
    store.upsert_allocs(3, [alloc("a1", batch)])
    store.upsert_evals(4, [evaluation("e1", batch, status="complete")])
    assert status() == "running"
    store.update_allocs_from_client(5, [AllocUpdate(id="a1", client_status="complete")])
    assert status() == "dead"


def test_client_update_for_an_unknown_alloc_is_ignored() -> None:
    store = StateStore()
    store.update_allocs_from_client(1, [AllocUpdate(id="nope", client_status="running")])
    assert store.snapshot().allocs() == []


def test_listeners_hear_index_and_changed_tables() -> None:
    store = StateStore()
    heard: list[tuple[int, frozenset[str]]] = []
    store.add_listener(lambda i, t: heard.append((i, t)))
    store.upsert_node(4, node())
    store.upsert_allocs(5, [alloc("a1", job())])
    assert heard[0] == (4, frozenset({"nodes"}))
    assert heard[1][0] == 5 and "allocs" in heard[1][1]


def test_node_status_update_and_delete() -> None:
    store = StateStore()
    store.upsert_node(1, node(status="initializing"))
    store.update_node_status(2, "n1", "ready", 1234)
    n = store.snapshot().node_by_id("n1")
    assert n is not None and (n.status, n.status_updated_at, n.modify_index) == ("ready", 1234, 2)
    assert n.create_index == 1
    store.delete_nodes(3, ["n1"])
    assert store.snapshot().node_by_id("n1") is None


def test_snapshot_implements_every_state_snapshot_method() -> None:
    from nomadic.scheduler.interfaces import State
    from nomadic.state import Snapshot
    from nomadic.state.interfaces import StateSnapshot

    for proto in (StateSnapshot, State):
        wanted = {n for n in vars(proto) if not n.startswith("_")}
        missing = {n for n in wanted if not callable(getattr(Snapshot, n, None))}
        assert not missing, f"{proto.__name__}: {missing}"


def test_the_sorted_node_list_follows_every_write_to_the_nodes_table() -> None:
    store = StateStore()
    store.upsert_node(1, node("n2"))
    store.upsert_node(2, node("n1"))
    first = store.snapshot()
    assert [n.id for n in first.nodes()] == ["n1", "n2"]
    first.nodes().clear()  # a caller's list is its own
    assert [n.id for n in first.nodes()] == ["n1", "n2"]
    store.upsert_node(3, node("n0"))
    store.update_node_status(4, "n2", "down", 5)
    latest = store.snapshot()
    assert [(n.id, n.status) for n in latest.nodes()] == [
        ("n0", "ready"),
        ("n1", "ready"),
        ("n2", "down"),
    ]
    assert [n.id for n in first.nodes()] == ["n1", "n2"]  # an older snapshot keeps its view
    assert [n.id for n in latest.nodes("n1")] == ["n1"]
