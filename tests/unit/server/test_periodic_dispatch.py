"""PeriodicDispatch against a real FSM and state store, with a fake clock."""

from __future__ import annotations

import uuid

import pytest

from nomadic.server.periodic import PeriodicDispatch, derive_child
from nomadic.state.entries import JobRegister, Payload, encode_entry
from nomadic.state.fsm import FSM
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Job, PeriodicConfig, TaskGroup
from nomadic.structs.consts import SECOND
from nomadic.structs.periodic import next_launch

T0 = 1_800_000_000 * SECOND  # a round minute


class Host:
    def __init__(self) -> None:
        self.fsm = FSM()
        self.index = 0
        self.now = T0

    def snapshot(self) -> Snapshot:
        return self.fsm.store.snapshot()

    async def apply(self, payload: Payload) -> int:
        self.index += 1
        result = self.fsm.apply(self.index, encode_entry(payload, str(uuid.uuid4())))
        assert not result.error
        return self.index


def periodic_job(cron: str = "*/10 * * * * *", overlap: bool = False) -> Job:
    return Job(
        id="tick",
        type="batch",
        periodic=PeriodicConfig(spec=cron, prohibit_overlap=overlap),
        task_groups=[TaskGroup(name="g")],
        submit_time=T0,
    )


def child_ids(host: Host) -> list[str]:
    return [j.id for j in host.snapshot().children("default", "tick")]


@pytest.mark.parametrize(
    ("specs", "after", "expected"),
    [
        (["*/10 * * * * *"], T0 + 1, T0 + 10 * SECOND),
        (["0 * * * *", "*/15 * * * * *"], T0, T0 + 15 * SECOND),
        (["30 8 * * *"], T0, T0 + 30 * 60 * SECOND),  # T0 is 08:00:00 UTC
        (["30 8 * * *", "@hourly"], T0, T0 + 30 * 60 * SECOND),
    ],
    ids=["seconds", "earliest-of-several", "five-fields", "macro"],
)
def test_next_launch(specs: list[str], after: int, expected: int) -> None:
    assert next_launch(PeriodicConfig(specs=specs), after) == expected


async def test_launch_creates_child_with_parent_and_records_launch() -> None:
    host = Host()
    await host.apply(JobRegister(job=periodic_job()))
    d = PeriodicDispatch(host, clock=lambda: host.now)
    parent = host.snapshot().job_by_id("default", "tick")
    assert parent is not None
    ev = await d.launch(parent, T0 + 10 * SECOND)
    assert ev is not None and ev.triggered_by == "periodic-job"
    child = host.snapshot().job_by_id("default", "tick/periodic-1800000010")
    assert child is not None and child.parent_id == "tick" and child.periodic is None
    launch = host.snapshot().periodic_launch("default", "tick")
    assert launch is not None and launch.launch == T0 + 10 * SECOND
    assert await d.launch(parent, T0 + 10 * SECOND) is None  # the same launch twice: once
    assert child_ids(host) == ["tick/periodic-1800000010"]
    summary = host.snapshot().job_summary("default", "tick")
    assert summary is not None and summary.children.pending == 1


async def test_restore_catches_up_a_missed_launch_once() -> None:
    host = Host()
    await host.apply(JobRegister(job=periodic_job()))
    host.now = T0 + 35 * SECOND  # ticks at +10, +20, +30 were missed while no one led
    d = PeriodicDispatch(host, clock=lambda: host.now)
    d.start()
    try:
        await d.restore()
        assert child_ids(host) == ["tick/periodic-1800000035"]
        assert d.next_launch_of("default", "tick") == T0 + 40 * SECOND
    finally:
        await d.stop()


async def test_restore_without_a_missed_launch_launches_nothing() -> None:
    host = Host()
    await host.apply(JobRegister(job=periodic_job()))
    parent = host.snapshot().job_by_id("default", "tick")
    assert parent is not None
    d = PeriodicDispatch(host, clock=lambda: host.now)
    await d.launch(parent, T0 + 10 * SECOND)
    host.now = T0 + 15 * SECOND
    d.start()
    try:
        await d.restore()
        assert child_ids(host) == ["tick/periodic-1800000010"]
    finally:
        await d.stop()


async def test_prohibit_overlap_skips_while_a_child_is_not_dead() -> None:
    host = Host()
    await host.apply(JobRegister(job=periodic_job(overlap=True)))
    parent = host.snapshot().job_by_id("default", "tick")
    assert parent is not None
    d = PeriodicDispatch(host, clock=lambda: host.now)
    await d.launch(parent, T0 + 10 * SECOND)
    d.add(parent)
    await d._due(("default", "tick"), T0 + 20 * SECOND)
    assert child_ids(host) == ["tick/periodic-1800000010"]  # the first child is pending


def test_derive_child_id_uses_the_launch_second() -> None:
    child = derive_child(periodic_job(), T0 + 1_500_000_000)
    assert child.id == "tick/periodic-1800000001" and child.name == child.id
