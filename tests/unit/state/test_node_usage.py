"""The per-node usage index the plan applier and scheduler read instead of walking allocations."""

from __future__ import annotations

import msgspec
from state_factories import alloc, job, node

from nomadic.state import StateStore
from nomadic.state.fsm import FSM
from nomadic.structs import AllocUpdate


def usage(store: StateStore, node_id: str = "n1") -> tuple[int, int, int]:
    u = store.snapshot().node_usage(node_id)
    return u.cpu, u.mem, u.count


def test_usage_counts_live_allocations_per_node() -> None:
    store = StateStore()
    web = job("web")
    store.upsert_job(1, web)
    store.upsert_node(2, node("n1"))
    store.upsert_allocs(3, [alloc("a1", web), alloc("a2", web), alloc("a3", web, "n2")])
    assert usage(store) == (200, 512, 2)
    assert usage(store, "n2") == (100, 256, 1)
    assert usage(store, "n3") == (0, 0, 0)


def test_status_reports_keep_usage_until_terminal() -> None:
    store = StateStore()
    web = job("web")
    store.upsert_job(1, web)
    store.upsert_allocs(2, [alloc("a1", web), alloc("a2", web)])
    store.update_allocs_from_client(3, [AllocUpdate(id="a1", client_status="running")])
    assert usage(store) == (200, 512, 2)
    store.update_allocs_from_client(4, [AllocUpdate(id="a1", client_status="complete")])
    assert usage(store) == (100, 256, 1)


def test_server_stop_and_move_update_usage() -> None:
    store = StateStore()
    web = job("web")
    store.upsert_job(1, web)
    a1, a2 = alloc("a1", web), alloc("a2", web)
    store.upsert_allocs(2, [a1, a2])
    store.upsert_allocs(3, [msgspec.structs.replace(a1, desired_status="stop")])
    store.upsert_allocs(4, [msgspec.structs.replace(a2, node_id="n2")])
    assert usage(store) == (0, 0, 0)
    assert usage(store, "n2") == (100, 256, 1)


def test_snapshot_restore_rebuilds_usage() -> None:
    fsm = FSM()
    web = job("web")
    fsm.store.upsert_job(1, web)
    fsm.store.upsert_allocs(2, [alloc("a1", web), alloc("a2", web, "n2")])
    restored = FSM()
    restored.restore(fsm.snapshot())
    assert usage(restored.store) == (100, 256, 1)
    assert usage(restored.store, "n2") == (100, 256, 1)
