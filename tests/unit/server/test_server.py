"""Server end to end in one process: endpoints -> raft -> FSM -> broker -> worker -> plan."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from server_fakes import fake_factory, make_job, make_node, server_config

from nomadic.errors import NoLeaderError, NotFoundError, ValidationError
from nomadic.server import LocalServerRPC, Server
from nomadic.server.heartbeat import HeartbeatConfig
from nomadic.structs import AllocUpdate, Job


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def live_allocs(server: Server, job_id: str = "web") -> list[str]:
    snap = server.snapshot()
    return [a.node_id for a in snap.allocs_by_job("default", job_id) if not a.terminal()]


async def test_register_job_and_node_places_allocations(server: Server) -> None:
    rpc = LocalServerRPC(server)
    reg = await rpc.node_register(make_node("n1"))
    assert reg.heartbeat_ttl >= 10 * 1_000_000_000
    resp = await server.job_register(make_job(count=2))
    assert resp.eval_id and resp.index > reg.index
    await until(lambda: len(live_allocs(server)) == 2)
    await until(lambda: server.snapshot().eval_by_id(resp.eval_id).status == "complete")  # type: ignore[union-attr]
    snap = server.snapshot()
    job = snap.job_by_id("default", "web")
    assert job is not None and job.status == "running"
    summary = snap.job_summary("default", "web")
    assert summary is not None and summary.summary["g"].starting == 2


async def test_client_sees_its_allocations_through_a_blocking_query(server: Server) -> None:
    rpc = LocalServerRPC(server)
    await rpc.node_register(make_node("n1"))
    allocs, index = await rpc.node_get_client_allocs("n1", 0, 1.0)
    assert allocs == []
    waiting = asyncio.ensure_future(rpc.node_get_client_allocs("n1", index, 10.0))
    await server.job_register(make_job())
    allocs, new_index = await waiting
    assert len(allocs) == 1 and new_index > index
    assert allocs[0].job is not None and allocs[0].job.id == "web"


async def test_client_updates_are_batched_and_failed_allocs_get_an_eval(server: Server) -> None:
    rpc = LocalServerRPC(server)
    await rpc.node_register(make_node("n1"))
    await server.job_register(make_job(count=2))
    await until(lambda: len(live_allocs(server)) == 2)
    a1, a2 = server.snapshot().allocs_by_job("default", "web")
    i1, i2 = await asyncio.gather(
        rpc.node_update_alloc([AllocUpdate(id=a1.id, client_status="running")]),
        rpc.node_update_alloc([AllocUpdate(id=a2.id, client_status="failed")]),
    )
    assert i1 == i2  # one raft write for the batch
    snap = server.snapshot()
    counts = snap.job_summary("default", "web").summary["g"]  # type: ignore[union-attr]
    assert (counts.running, counts.failed) == (1, 1)
    triggers = [e.triggered_by for e in snap.evals_by_job("default", "web")]
    assert "alloc-failure" in triggers
    await until(lambda: len(live_allocs(server)) == 2)  # the failed one was replaced


async def test_job_with_no_capacity_blocks_until_a_node_arrives(server: Server) -> None:
    resp = await server.job_register(make_job())

    def blocked() -> bool:
        first = server.snapshot().eval_by_id(resp.eval_id)
        return first is not None and first.status == "complete" and bool(first.blocked_eval)

    await until(blocked)
    first = server.snapshot().eval_by_id(resp.eval_id)
    assert first is not None
    follow_up = server.snapshot().eval_by_id(first.blocked_eval)
    assert follow_up is not None and follow_up.status == "blocked"
    await LocalServerRPC(server).node_register(make_node("n1"))
    await until(lambda: len(live_allocs(server)) == 1)


async def test_deregister_stops_allocations(server: Server) -> None:
    await LocalServerRPC(server).node_register(make_node("n1"))
    await server.job_register(make_job(count=2))
    await until(lambda: len(live_allocs(server)) == 2)
    resp = await server.job_deregister("default", "web")
    assert resp.eval_id
    await until(lambda: live_allocs(server) == [])
    job = server.snapshot().job_by_id("default", "web")
    assert job is not None and job.stop
    await server.job_deregister("default", "web", purge=True)
    assert server.snapshot().job_by_id("default", "web") is None
    with pytest.raises(NotFoundError):
        await server.job_deregister("default", "web")


async def test_alloc_stop_replaces_the_allocation(server: Server) -> None:
    await LocalServerRPC(server).node_register(make_node("n1"))
    await server.job_register(make_job())
    await until(lambda: len(live_allocs(server)) == 1)
    (old,) = server.snapshot().allocs_by_job("default", "web")
    resp = await server.alloc_stop(old.id)
    assert server.snapshot().eval_by_id(resp.eval_id) is not None

    def replaced() -> bool:
        allocs = server.snapshot().allocs_by_job("default", "web")
        return any(a.id != old.id and not a.terminal() for a in allocs) and any(
            a.id == old.id and a.desired_status == "stop" for a in allocs
        )

    await until(replaced)
    with pytest.raises(NotFoundError):
        await server.alloc_stop("no-such-alloc")


async def test_register_again_without_changes_keeps_the_version(server: Server) -> None:
    first = await server.job_register(make_job())
    second = await server.job_register(make_job())
    assert first.job_modify_index == second.job_modify_index
    third = await server.job_register(make_job(count=3))
    assert third.job_modify_index > second.job_modify_index
    job = server.snapshot().job_by_id("default", "web")
    assert job is not None and job.version == 1


async def test_invalid_job_is_rejected_with_every_problem(server: Server) -> None:
    with pytest.raises(ValidationError) as err:
        await server.job_register(Job(id="bad job", priority=500))
    assert len(err.value.errors) == 3


async def test_enforce_index_rejects_a_stale_update(server: Server) -> None:
    resp = await server.job_register(make_job(), enforce_index=True, job_modify_index=0)
    with pytest.raises(ValidationError):
        await server.job_register(make_job(count=2), enforce_index=True, job_modify_index=0)
    ok = await server.job_register(
        make_job(count=2), enforce_index=True, job_modify_index=resp.job_modify_index
    )
    assert ok.job_modify_index > resp.job_modify_index


async def test_heartbeat_of_an_unknown_node_is_not_found(server: Server) -> None:
    with pytest.raises(NotFoundError):
        await LocalServerRPC(server).node_update_status("nope", "ready")


async def test_missed_heartbeats_mark_the_node_down_and_reschedule() -> None:
    cfg = server_config(heartbeat=HeartbeatConfig(min_heartbeat_ttl=0.2, heartbeat_grace=0.1))
    server = Server(cfg, scheduler_factory=fake_factory)
    await server.start()
    try:
        await server.wait_for_leader()
        rpc = LocalServerRPC(server)
        await rpc.node_register(make_node("n1"))
        await server.job_register(make_job())
        await until(lambda: len(live_allocs(server)) == 1)
        await until(lambda: server.snapshot().node_by_id("n1").status == "down")  # type: ignore[union-attr]
        triggers = [e.triggered_by for e in server.snapshot().evals_by_job("default", "web")]
        assert "node-update" in triggers
        reg = await rpc.node_update_status("n1", "ready")  # it comes back
        assert reg.heartbeat_ttl > 0
    finally:
        await server.shutdown()


async def test_writes_before_leadership_are_refused() -> None:
    server = Server(server_config(), scheduler_factory=fake_factory)
    with pytest.raises(NoLeaderError):
        await server.job_register(make_job())


async def test_wait_for_index_returns_on_write_or_timeout(server: Server) -> None:
    start = server.snapshot().latest_index()
    assert await server.wait_for_index(start, 0.05) == start
    waiting = asyncio.ensure_future(server.wait_for_index(start, 10.0))
    await LocalServerRPC(server).node_register(make_node("n1"))
    assert await waiting > start


async def test_failing_scheduler_is_retried_then_the_eval_fails_with_a_follow_up() -> None:
    from nomadic.scheduler.interfaces import Planner, Scheduler, State
    from nomadic.server.broker import BrokerConfig

    calls: list[str] = []

    class Broken:
        def process(self, evaluation: object) -> None:
            calls.append("x")
            raise RuntimeError("boom")

    def broken(eval_type: str, state: State, planner: Planner) -> Scheduler:
        return Broken()  # type: ignore[return-value]

    cfg = server_config(
        broker=BrokerConfig(initial_reenqueue_delay=0.01, subsequent_reenqueue_delay=0.01)
    )
    server = Server(cfg, scheduler_factory=broken)
    await server.start()
    try:
        await server.wait_for_leader()
        resp = await server.job_register(make_job())

        def failed() -> bool:
            ev = server.snapshot().eval_by_id(resp.eval_id)
            return ev is not None and ev.status == "failed"

        await until(failed)
        assert len(calls) == 3  # the delivery limit
        ev = server.snapshot().eval_by_id(resp.eval_id)
        assert ev is not None and ev.next_eval
        follow = server.snapshot().eval_by_id(ev.next_eval)
        assert follow is not None
        assert (follow.status, follow.triggered_by) == ("pending", "failed-follow-up")
        assert follow.wait_until > ev.modify_time
    finally:
        await server.shutdown()


async def test_restart_from_the_data_dir_keeps_the_state(tmp_path: Path) -> None:
    cfg = server_config(data_dir=str(tmp_path))
    first = Server(cfg, scheduler_factory=fake_factory)
    await first.start()
    try:
        await first.wait_for_leader()
        await LocalServerRPC(first).node_register(make_node("n1"))
        await first.job_register(make_job(count=2))
        await until(lambda: len(live_allocs(first)) == 2)
        before = first.snapshot().latest_index()
    finally:
        await first.shutdown()

    second = Server(cfg, scheduler_factory=fake_factory)
    await second.start()
    try:
        await second.wait_for_leader()
        snap = second.snapshot()
        assert snap.latest_index() >= before
        assert snap.job_by_id("default", "web") is not None
        assert len(live_allocs(second)) == 2
        resp = await second.job_register(make_job(count=3))  # and it keeps working
        await until(lambda: len(live_allocs(second)) == 3)
        assert resp.index > before
    finally:
        await second.shutdown()
