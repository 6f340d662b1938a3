"""Namespaces and node pools in the state store and FSM: built-ins, upsert/delete rules,
snapshot round trip."""

from __future__ import annotations

import msgspec
import pytest
from state_factories import job, node

from nomadic.state import FSM
from nomadic.state.entries import (
    JobDeregister,
    JobRegister,
    NamespaceDelete,
    NamespaceUpsert,
    NodePoolDelete,
    NodePoolUpsert,
    NodeRegister,
    encode_entry,
)
from nomadic.structs import Namespace, NodePool
from nomadic.structs.globalobjs import validate_namespace, validate_node_pool


def _fsm(*payloads: object) -> FSM:
    fsm = FSM()
    for i, p in enumerate(payloads, start=1):
        result = fsm.apply(i, encode_entry(p, f"r{i}"))  # type: ignore[arg-type]
        assert not result.error
    return fsm


def test_builtins_exist_from_the_start() -> None:
    snap = FSM().store.snapshot()
    assert [ns.name for ns in snap.namespaces()] == ["default"]
    assert [p.name for p in snap.node_pools()] == ["all", "default"]
    assert snap.namespace_by_name("default").create_index == 1  # type: ignore[union-attr]


def test_namespace_upsert_keeps_create_index_and_bumps_modify_index() -> None:
    fsm = _fsm(
        NamespaceUpsert(namespaces=[Namespace(name="dev", description="one")]),
        NamespaceUpsert(namespaces=[Namespace(name="dev", description="two", meta={"a": "b"})]),
    )
    snap = fsm.store.snapshot()
    dev = snap.namespace_by_name("dev")
    assert dev is not None
    assert (dev.description, dev.meta, dev.create_index, dev.modify_index) == (
        "two",
        {"a": "b"},
        1,
        2,
    )
    assert snap.table_index("namespaces") == 2


def test_builtins_are_never_replaced_or_deleted() -> None:
    fsm = _fsm(
        NodePoolUpsert(pools=[NodePool(name="all", description="mine")]),
        NamespaceDelete(names=["default"]),
        NodePoolDelete(names=["default", "all"]),
    )
    snap = fsm.store.snapshot()
    assert snap.namespace_by_name("default") is not None
    assert [p.name for p in snap.node_pools()] == ["all", "default"]
    assert snap.node_pool_by_name("all").description.startswith("Node pool with all")  # type: ignore[union-attr]


def test_namespace_with_live_job_is_kept_until_the_job_is_dead() -> None:
    web = msgspec.structs.replace(job("web"), namespace="dev")
    fsm = _fsm(
        NamespaceUpsert(namespaces=[Namespace(name="dev")]),
        JobRegister(job=web),
        NamespaceDelete(names=["dev"]),
    )
    assert fsm.store.snapshot().namespace_by_name("dev") is not None
    fsm.apply(4, encode_entry(JobDeregister(namespace="dev", job_id="web", purge=True), "r4"))
    fsm.apply(5, encode_entry(NamespaceDelete(names=["dev"]), "r5"))
    assert fsm.store.snapshot().namespace_by_name("dev") is None


def test_node_pool_in_use_by_a_node_is_kept() -> None:
    gpu_node = msgspec.structs.replace(node("n1"), node_pool="gpu")
    fsm = _fsm(
        NodeRegister(node=gpu_node, create_node_pool=True),
        NodePoolDelete(names=["gpu"]),
    )
    pool = fsm.store.snapshot().node_pool_by_name("gpu")
    assert pool is not None and pool.create_index == 1


def test_node_register_creates_its_pool_only_when_asked() -> None:
    gpu_node = msgspec.structs.replace(node("n1"), node_pool="gpu")
    fsm = _fsm(NodeRegister(node=gpu_node))
    assert fsm.store.snapshot().node_pool_by_name("gpu") is None


def test_node_pool_delete_removes_unused_pool() -> None:
    fsm = _fsm(
        NodePoolUpsert(pools=[NodePool(name="batch", meta={"team": "x"})]),
        NodePoolDelete(names=["batch"]),
    )
    assert fsm.store.snapshot().node_pool_by_name("batch") is None
    assert fsm.store.snapshot().table_index("node_pools") == 2


def test_snapshot_round_trip_keeps_global_objects() -> None:
    fsm = _fsm(
        NamespaceUpsert(namespaces=[Namespace(name="dev", meta={"k": "v"})]),
        NodePoolUpsert(pools=[NodePool(name="gpu", description="GPUs")]),
    )
    data = fsm.snapshot()
    other = FSM()
    other.restore(data)
    snap = other.store.snapshot()
    assert snap.namespace_by_name("dev") == fsm.store.snapshot().namespace_by_name("dev")
    assert snap.node_pool_by_name("gpu") == fsm.store.snapshot().node_pool_by_name("gpu")
    assert [p.name for p in snap.node_pools()] == ["all", "default", "gpu"]
    assert other.snapshot() == data


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "invalid name ''"),
        ("has space", "letters, digits and dashes"),
        ("under_score", "letters, digits and dashes"),
        ("x" * 129, "1-128"),
    ],
    ids=["empty", "space", "underscore", "too-long"],
)
def test_namespace_name_validation(name: str, problem: str) -> None:
    errors = validate_namespace(Namespace(name=name))
    assert len(errors) == 1 and problem in errors[0]


def test_node_pool_validation() -> None:
    assert validate_node_pool(NodePool(name="under_score")) == []
    assert "invalid name 'a/b'" in validate_node_pool(NodePool(name="a/b"))[0]
    errors = validate_node_pool(NodePool(name="ok", description="d" * 257))
    assert errors == ["description is 257 characters, longer than 256; shorten it"]


def test_node_pool_events() -> None:
    from nomadic.state.events import events_for

    fsm = FSM()
    seen: list[tuple[str, str, str]] = []

    def listen(index: int, mtype: object, payload: object, before: object, after: object) -> None:
        for ev in events_for(index, mtype, payload, before, after):  # type: ignore[arg-type]
            seen.append((ev.topic, ev.type, ev.key))

    fsm.add_apply_listener(listen)
    fsm.apply(1, encode_entry(NodePoolUpsert(pools=[NodePool(name="gpu")]), "r1"))
    fsm.apply(2, encode_entry(NodePoolDelete(names=["gpu", "all"]), "r2"))
    assert seen == [("NodePool", "NodePoolUpserted", "gpu"), ("NodePool", "NodePoolDeleted", "gpu")]


def test_a_job_entry_from_before_namespaces_brings_its_namespace() -> None:
    # a Raft log written before namespaces existed: the job's namespace is created with it
    web = msgspec.structs.replace(job("web"), namespace="legacy")
    fsm = _fsm(JobRegister(job=web))
    assert fsm.store.snapshot().namespace_by_name("legacy") is not None


def test_restoring_an_old_snapshot_adds_the_namespaces_and_pools_in_use() -> None:
    fsm = _fsm(
        JobRegister(job=msgspec.structs.replace(job("web"), namespace="legacy")),
        NodeRegister(node=msgspec.structs.replace(node("n1"), node_pool="gpu")),
    )
    snap = msgspec.msgpack.decode(fsm.snapshot())
    old = snap[: len(snap) - 3]  # the fields of a snapshot from before namespaces and pools
    other = FSM()
    other.restore(msgspec.msgpack.encode(old))
    restored = other.store.snapshot()
    assert [ns.name for ns in restored.namespaces()] == ["default", "legacy"]
    assert [p.name for p in restored.node_pools()] == ["all", "default", "gpu"]
