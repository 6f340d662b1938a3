"""Three Raft servers in one process under a burst of writes: every server applies the same
entries in the same order, each acknowledged write exactly once, and no follower deletes
entries it has already applied (pysyncobj's "truncating already-applied log entries", see
``nomadic.raft.node._Transport``)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import pytest

from nomadic.raft import RaftConfig, RaftNode
from nomadic.state import FSM
from nomadic.state.entries import NodeRegister, encode_entry
from nomadic.state.fsm import ApplyResult
from nomadic.structs import Node
from nomadic.testing.agent_process import free_port


class RecordingFSM(FSM):
    """An FSM that remembers which entry it applied at which index, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.applied: list[tuple[int, str]] = []

    def apply(self, index: int, entry: bytes) -> ApplyResult:
        self.applied.append((index, hashlib.sha1(entry).hexdigest()))
        return super().apply(index, entry)


class SlowFSM(RecordingFSM):
    """Every apply takes 25 ms, like a big plan result on a busy server."""

    def apply(self, index: int, entry: bytes) -> ApplyResult:
        time.sleep(0.025)
        return super().apply(index, entry)


async def start_cluster(fsms: list[RecordingFSM]) -> tuple[list[RaftNode], RaftNode]:
    addrs = [f"127.0.0.1:{free_port()}" for _ in fsms]
    nodes = [
        RaftNode(RaftConfig(self_addr=a, partners=[p for p in addrs if p != a]), fsm)
        for a, fsm in zip(addrs, fsms, strict=True)
    ]
    for node in nodes:
        await node.start()
    deadline = time.monotonic() + 30
    while not any(n.is_leader() for n in nodes):
        assert time.monotonic() < deadline, "no leader elected"
        await asyncio.sleep(0.02)
    return nodes, next(n for n in nodes if n.is_leader())


async def wait_applied(fsms: list[RecordingFSM], index: int) -> None:
    deadline = time.monotonic() + 90
    while any(f.last_index < index for f in fsms):
        assert time.monotonic() < deadline, "followers did not catch up"
        await asyncio.sleep(0.05)


def write(i: int, pad: int) -> bytes:
    node = Node(id=f"n{i}", name=f"n{i}", meta={"pad": "x" * pad})
    return encode_entry(NodeRegister(node=node), f"req-{i}")


async def burst(leader: RaftNode, first: int, count: int, pad: int, inflight: int) -> dict:
    sem = asyncio.Semaphore(inflight)
    acked: dict[str, int] = {}

    async def one(i: int) -> None:
        entry = write(i, pad)
        async with sem:
            result = await leader.apply(entry, timeout=60)
        assert not result.error
        acked[hashlib.sha1(entry).hexdigest()] = result.index

    await asyncio.gather(*(one(i) for i in range(first, first + count)))
    return acked


async def test_a_burst_of_writes_is_applied_once_everywhere_and_never_truncated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.CRITICAL, logger="pysyncobj")
    fsms = [RecordingFSM() for _ in range(3)]
    nodes, leader = await start_cluster(fsms)
    try:
        # Shapes that made unpatched pysyncobj truncate in most runs on 2 shared cores: many
        # mid-sized entries with a few dozen in flight (the leader sends as they arrive).
        acked = await burst(leader, 0, 2000, 5_000, 32)
        acked |= await burst(leader, 2000, 1500, 20_000, 16)
        await wait_applied(fsms, max(acked.values()))
    finally:
        for node in nodes:
            await node.shutdown()

    truncations = [r.getMessage() for r in caplog.records if "truncating" in r.getMessage()]
    assert truncations == []
    for fsm in fsms:
        indexes = [i for i, _ in fsm.applied]
        assert indexes == sorted(set(indexes)), "an index applied twice or out of order"
        by_index = dict(fsm.applied)
        for digest, index in acked.items():
            assert by_index.get(index) == digest, f"write acknowledged at {index} not applied there"
        digests = [d for _, d in fsm.applied]
        assert len(digests) == len(set(digests)), "an entry applied twice"
    assert fsms[0].applied == fsms[1].applied == fsms[2].applied


async def test_seconds_of_applies_do_not_silence_the_leader() -> None:
    # 200 writes committed together cost 5 s of FSM applies on every server. pysyncobj
    # applied them in one go on the thread that also sends heartbeats and reads the leader's,
    # so followers heard nothing for longer than the election timeout and elected another
    # leader; applies are now sliced between ticks and the leader stays.
    fsms: list[RecordingFSM] = [SlowFSM() for _ in range(3)]
    nodes, leader = await start_cluster(fsms)
    try:
        term = leader.stats()["term"]
        acked = await burst(leader, 0, 200, 100, 200)
        await wait_applied(fsms, max(acked.values()))
        assert leader.is_leader()
        assert [n.stats()["term"] for n in nodes] == [term] * 3, "an election happened"
    finally:
        for node in nodes:
            await node.shutdown()
    assert fsms[0].applied == fsms[1].applied == fsms[2].applied
