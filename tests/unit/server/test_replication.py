"""Replication of namespaces and node pools from the authoritative region: the diff, the loop
against an in-memory authoritative region, and its error backoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from nomadic.server.replication import GlobalReplicator, diff_objects
from nomadic.state import FSM
from nomadic.state.entries import NamespaceUpsert, encode_entry
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Namespace, NodePool


async def eventually(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class FakeAuthoritative:
    """An authoritative region in memory: blocking lists over one index."""

    def __init__(self) -> None:
        self.namespaces: dict[str, Namespace] = {}
        self.pools: dict[str, NodePool] = {}
        self.index = 0
        self.fail: Exception | None = None
        self.calls = 0
        self._changed = asyncio.Event()

    def write(self, change: Callable[[], object]) -> None:
        self.index += 1
        change()
        self._changed.set()
        self._changed = asyncio.Event()

    async def _list(self, min_index: int, read: Callable[[], list[Any]]) -> tuple[int, list[Any]]:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        while min_index and self.index <= min_index:  # 0: answer at once, like the server
            await self._changed.wait()
            if self.fail is not None:
                raise self.fail
        return self.index, read()

    async def list_namespaces(self, min_index: int) -> tuple[int, list[Namespace]]:
        return await self._list(min_index, lambda: list(self.namespaces.values()))

    async def list_node_pools(self, min_index: int) -> tuple[int, list[NodePool]]:
        return await self._list(min_index, lambda: list(self.pools.values()))


class LocalRegion:
    """The replicating leader's side: a real FSM and store; counts its Raft writes."""

    def __init__(self) -> None:
        self.fsm = FSM()
        self.index = 0
        self.writes: list[object] = []

    def snapshot(self) -> Snapshot:
        return self.fsm.store.snapshot()

    async def apply(self, payload: Any) -> int:
        self.index += 1
        self.writes.append(payload)
        self.fsm.apply(self.index, encode_entry(payload, f"r{self.index}"))
        return self.index


def _names(objs: list[Any]) -> list[str]:
    return [o.name for o in objs]


@pytest.mark.parametrize(
    ("local", "remote", "upserts", "deletes"),
    [
        ([], [Namespace(name="a")], ["a"], []),
        ([Namespace(name="a")], [], [], ["a"]),
        ([Namespace(name="a", create_index=3)], [Namespace(name="a", create_index=9)], [], []),
        ([Namespace(name="a")], [Namespace(name="a", description="new")], ["a"], []),
        ([Namespace(name="default")], [], [], []),
        ([], [Namespace(name="default", description="theirs")], [], []),
    ],
    ids=["new", "gone", "same-spec-other-index", "changed", "builtin-kept", "builtin-ignored"],
)
def test_diff(
    local: list[Namespace], remote: list[Namespace], upserts: list[str], deletes: list[str]
) -> None:
    got_upserts, got_deletes = diff_objects(local, remote, ("default",))
    assert (_names(got_upserts), got_deletes) == (upserts, deletes)


@pytest.fixture
def regions() -> tuple[FakeAuthoritative, LocalRegion]:
    return FakeAuthoritative(), LocalRegion()


async def test_replicates_upserts_and_deletes_in_one_entry_each(
    regions: tuple[FakeAuthoritative, LocalRegion],
) -> None:
    eu, us = regions
    eu.write(lambda: eu.namespaces.update(a=Namespace(name="a"), b=Namespace(name="b")))
    eu.write(lambda: eu.pools.update(gpu=NodePool(name="gpu", meta={"k": "v"})))
    task = asyncio.ensure_future(GlobalReplicator(us, eu, "eu", backoff=0.05).run())
    try:
        await eventually(
            lambda: _names(us.snapshot().namespaces()) == ["a", "b", "default"], "namespaces"
        )
        await eventually(lambda: us.snapshot().node_pool_by_name("gpu") is not None, "pool")
        assert us.snapshot().node_pool_by_name("gpu").meta == {"k": "v"}  # type: ignore[union-attr]
        writes = len(us.writes)
        assert writes == 2  # one NamespaceUpsert with both, one NodePoolUpsert
        eu.write(lambda: eu.namespaces.pop("a"))
        await eventually(lambda: us.snapshot().namespace_by_name("a") is None, "delete")
        assert len(us.writes) == writes + 1
        assert [p.name for p in us.snapshot().node_pools()] == ["all", "default", "gpu"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_local_objects_the_authoritative_region_lacks_are_deleted(
    regions: tuple[FakeAuthoritative, LocalRegion],
) -> None:
    eu, us = regions
    await us.apply(NamespaceUpsert(namespaces=[Namespace(name="stale")]))
    task = asyncio.ensure_future(GlobalReplicator(us, eu, "eu", backoff=0.05).run())
    try:
        await eventually(lambda: us.snapshot().namespace_by_name("stale") is None, "delete")
        assert us.snapshot().namespace_by_name("default") is not None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_errors_back_off_and_replicas_keep_serving(
    regions: tuple[FakeAuthoritative, LocalRegion],
) -> None:
    eu, us = regions
    eu.write(lambda: eu.namespaces.update(a=Namespace(name="a")))
    replicator = GlobalReplicator(us, eu, "eu", backoff=0.2)
    task = asyncio.ensure_future(replicator.run())
    try:
        await eventually(lambda: us.snapshot().namespace_by_name("a") is not None, "replica")
        eu.fail = ConnectionError('region "eu" is unreachable')
        eu.write(lambda: None)  # wake the blocked lists into the failure
        await eventually(
            lambda: replicator.status["namespaces"].last_error == 'region "eu" is unreachable',
            "the error recorded",
        )
        calls = eu.calls
        started = time.monotonic()
        await eventually(lambda: eu.calls >= calls + 2, "a retry")
        assert time.monotonic() - started >= 0.15  # the backoff, not a hot loop
        assert us.snapshot().namespace_by_name("a") is not None  # still served
        eu.fail = None
        eu.write(lambda: eu.namespaces.update(b=Namespace(name="b")))
        await eventually(lambda: us.snapshot().namespace_by_name("b") is not None, "recovery")
        assert replicator.status["namespaces"].last_error == ""
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
