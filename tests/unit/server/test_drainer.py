"""Node drain: the endpoint's rules and the drainer's decisions (migrate pacing, batch waits
for the deadline, system jobs last, completion)."""

from __future__ import annotations

import msgspec
import pytest
from server_fakes import make_alloc, make_job, make_node

from nomadic.errors import ValidationError
from nomadic.server import Server
from nomadic.server.drainer import NodeDrainer, drain_actions
from nomadic.server.local_rpc import LocalServerRPC
from nomadic.state import FSM
from nomadic.state.entries import (
    ApplyPlanResults,
    JobRegister,
    NodeRegister,
    NodeUpdateDrain,
    encode_entry,
)
from nomadic.structs import (
    DesiredTransition,
    DrainSpec,
    DrainStrategy,
    Job,
    MigrateStrategy,
)
from nomadic.structs.consts import SECOND
from nomadic.structs.requests import NodeUpdateDrainRequest, NodeUpdateEligibilityRequest

NOW = 1_700_000_000 * SECOND


class Cluster:
    """An FSM with nodes n1 (draining) and n2, and helpers to add jobs and allocs."""

    def __init__(self, strategy: DrainStrategy) -> None:
        self.fsm = FSM()
        self.index = 0
        self._apply(NodeRegister(node=make_node("n1")))
        self._apply(NodeRegister(node=make_node("n2")))
        self._apply(NodeUpdateDrain(node_id="n1", drain_strategy=strategy, updated_at=NOW))

    def _apply(self, payload: object) -> None:
        self.index += 1
        self.fsm.apply(self.index, encode_entry(payload, f"r{self.index}"))  # type: ignore[arg-type]

    def job(self, job_id: str, type_: str = "service", max_parallel: int = 1) -> Job:
        job = msgspec.structs.replace(
            make_job(job_id), type=type_, migrate=MigrateStrategy(max_parallel=max_parallel)
        )
        self._apply(JobRegister(job=job))
        return job

    def allocs(self, job: Job, node_id: str, n: int, **fields: object) -> list[str]:
        allocs = [
            msgspec.structs.replace(make_alloc(job, node_id, index=i), **fields) for i in range(n)
        ]
        self._apply(ApplyPlanResults(allocs_updated=allocs))
        return [a.id for a in allocs]

    def actions(self, now: int = NOW) -> tuple[set[str], list[str]]:
        got = drain_actions(self.fsm.store.snapshot(), now)
        return {a.id for a in got.migrate}, got.complete


def test_service_allocs_migrate_max_parallel_at_a_time() -> None:
    c = Cluster(DrainStrategy(deadline=3600 * SECOND, force_deadline=NOW + 3600 * SECOND))
    ids = c.allocs(c.job("web", max_parallel=2), "n1", 3, client_status="running")
    marked, complete = c.actions()
    assert len(marked) == 2 and marked <= set(ids)
    assert complete == []


def test_in_flight_migrations_hold_back_the_next_ones() -> None:
    c = Cluster(DrainStrategy(deadline=3600 * SECOND, force_deadline=NOW + 3600 * SECOND))
    job = c.job("web", max_parallel=1)
    c.allocs(job, "n1", 1, client_status="running", desired_transition=DesiredTransition(True))
    c.allocs(job, "n1", 1, client_status="running")
    marked, _ = c.actions()
    assert marked == set()


def test_batch_allocs_wait_for_the_deadline() -> None:
    c = Cluster(DrainStrategy(deadline=60 * SECOND, force_deadline=NOW + 60 * SECOND))
    ids = c.allocs(c.job("etl", "batch"), "n1", 2, client_status="running")
    assert c.actions() == (set(), [])
    marked, _ = c.actions(NOW + 61 * SECOND)
    assert marked == set(ids)


def test_system_allocs_go_last() -> None:
    c = Cluster(DrainStrategy(deadline=3600 * SECOND, force_deadline=NOW + 3600 * SECOND))
    (web,) = c.allocs(c.job("web"), "n1", 1, client_status="running")
    (agent,) = c.allocs(c.job("agent", "system"), "n1", 1, client_status="running")
    marked, _ = c.actions()
    assert marked == {web}
    c.allocs(c.job("web"), "n1", 0)
    c._apply(ApplyPlanResults(allocs_stopped=[_stopped(c, web)]))
    marked, complete = c.actions()
    assert marked == {agent} and complete == []


def test_ignore_system_jobs_completes_with_system_allocs_running() -> None:
    c = Cluster(
        DrainStrategy(
            deadline=3600 * SECOND, force_deadline=NOW + 3600 * SECOND, ignore_system_jobs=True
        )
    )
    c.allocs(c.job("agent", "system"), "n1", 1, client_status="running")
    assert c.actions() == (set(), ["n1"])


def test_force_deadline_marks_everything_now() -> None:
    c = Cluster(DrainStrategy(deadline=-1, force_deadline=NOW))
    web = c.allocs(c.job("web"), "n1", 3, client_status="running")
    agent = c.allocs(c.job("agent", "system"), "n1", 1, client_status="running")
    marked, _ = c.actions()
    assert marked == set(web) | set(agent)


async def test_drainer_step_completes_an_empty_node() -> None:
    c = Cluster(DrainStrategy())
    applied: list[object] = []

    class Host:
        def snapshot(self):  # type: ignore[no-untyped-def]
            return c.fsm.store.snapshot()

        async def apply(self, payload: object) -> int:
            applied.append(payload)
            c._apply(payload)
            return c.index

        async def wait_for_index(self, min_index: int, timeout: float) -> int:
            return c.index

    await NodeDrainer(Host(), clock=lambda: NOW).step(Host().snapshot())  # type: ignore[no-untyped-call]
    node = c.fsm.store.snapshot().node_by_id("n1")
    assert node is not None
    assert node.drain_strategy is None and not node.drain
    assert node.scheduling_eligibility == "ineligible"
    assert node.last_drain is not None and node.last_drain.status == "complete"
    assert node.events[-1].message == "Node drain complete"


def _stopped(c: Cluster, alloc_id: str):  # type: ignore[no-untyped-def]
    alloc = c.fsm.store.snapshot().alloc_by_id(alloc_id)
    assert alloc is not None
    return msgspec.structs.replace(alloc, desired_status="stop")


# --- the endpoint (a real one-node server with the fake scheduler) ---------------------


async def test_drain_makes_the_node_ineligible_and_disable_restores_it(server: Server) -> None:
    rpc = LocalServerRPC(server)
    await rpc.node_register(make_node("n1"))
    # a batch alloc keeps the drain going: it may finish until the deadline
    batch = msgspec.structs.replace(make_job("etl"), type="batch")
    await server.apply(JobRegister(job=batch))
    alloc = msgspec.structs.replace(make_alloc(batch, "n1"), client_status="running")
    await server.apply(ApplyPlanResults(allocs_updated=[alloc]))
    spec = DrainSpec(deadline=600 * SECOND)
    await server.node_update_drain(NodeUpdateDrainRequest(node_id="n1", drain_spec=spec))
    node = server.snapshot().node_by_id("n1")
    assert node is not None and node.drain and node.scheduling_eligibility == "ineligible"
    assert node.drain_strategy is not None and node.drain_strategy.deadline == 600 * SECOND
    strategy = node.drain_strategy
    assert strategy.force_deadline - strategy.started_at == 600 * SECOND
    assert node.last_drain is not None and node.last_drain.status == "draining"
    with pytest.raises(ValidationError, match="while it is draining"):
        await server.node_update_eligibility(
            NodeUpdateEligibilityRequest(node_id="n1", eligibility="eligible")
        )
    # a client re-registering keeps the drain
    await rpc.node_register(make_node("n1"))
    node = server.snapshot().node_by_id("n1")
    assert node is not None and node.drain_strategy is not None
    await server.node_update_drain(NodeUpdateDrainRequest(node_id="n1", mark_eligible=True))
    node = server.snapshot().node_by_id("n1")
    assert node is not None and not node.drain and node.drain_strategy is None
    assert node.scheduling_eligibility == "eligible"
    assert node.last_drain is not None and node.last_drain.status == "canceled"


async def test_eligibility_toggle_creates_evals_for_system_jobs(server: Server) -> None:
    rpc = LocalServerRPC(server)
    await rpc.node_register(make_node("n1"))
    job = msgspec.structs.replace(make_job("agent"), type="system")
    await server.job_register(job)
    resp = await server.node_update_eligibility(
        NodeUpdateEligibilityRequest(node_id="n1", eligibility="ineligible")
    )
    assert resp.eval_ids == []
    resp = await server.node_update_eligibility(
        NodeUpdateEligibilityRequest(node_id="n1", eligibility="eligible")
    )
    (eval_id,) = resp.eval_ids
    ev = server.snapshot().eval_by_id(eval_id)
    assert ev is not None and (ev.job_id, ev.triggered_by) == ("agent", "node-update")
    with pytest.raises(ValidationError, match="invalid scheduling eligibility"):
        await server.node_update_eligibility(
            NodeUpdateEligibilityRequest(node_id="n1", eligibility="maybe")
        )


def test_drain_and_eligibility_changes_are_node_events() -> None:
    from nomadic.state.entries import MessageType, NodeUpdateEligibility
    from nomadic.state.events import events_for

    c = Cluster(DrainStrategy())
    before = c.fsm.store.snapshot()
    payload = NodeUpdateEligibility(node_id="n2", eligibility="ineligible")
    c._apply(payload)
    (event,) = events_for(
        c.index, MessageType.NODE_UPDATE_ELIGIBILITY, payload, before, c.fsm.store.snapshot()
    )
    assert (event.topic, event.type, event.key) == ("Node", "NodeEligibility", "n2")
