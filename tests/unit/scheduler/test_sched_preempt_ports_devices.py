"""Preemption for static ports and devices (Nomad's PreemptForNetwork / PreemptForDevice): a
system job evicts the lower-priority allocations that hold what it needs, and nothing else."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedDeviceResource,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    Job,
    NetworkResource,
    Node,
    NodeDevice,
    NodeDeviceResource,
    Port,
    RequestedDevice,
    Resources,
)
from nomadic.structs.funcs import compute_node_class
from nomadic.structs.node import NodeReservedNetworkResources
from nomadic.testing.factories import mock_alloc, mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness


def holding(ports: list[int] = (), gpus: list[str] = ()) -> AllocatedResources:  # type: ignore[assignment]
    """A small allocation holding static ``ports`` and GPU instances ``gpus``."""
    task = AllocatedTaskResources(
        cpu=AllocatedCpuResources(cpu_shares=100),
        memory=AllocatedMemoryResources(memory_mb=128),
    )
    if gpus:
        task.devices = [
            AllocatedDeviceResource(vendor="nvidia", type="gpu", name="t4", device_ids=list(gpus))
        ]
    shared = AllocatedSharedResources()
    if ports:
        shared.networks = [
            NetworkResource(reserved_ports=[Port(label=f"p{p}", value=p) for p in ports])
        ]
    return AllocatedResources(tasks={"web": task}, shared=shared)


def existing(h: Harness, node: Node, priority: int, resources: AllocatedResources) -> Allocation:
    job = h.state.upsert_job(mock_job(priority=priority))
    alloc = mock_alloc(job, node, client_status="running", allocated_resources=resources)
    h.state.upsert_allocs([alloc])
    return alloc


def system_job(*, port: int = 0, gpus: int = 0) -> Job:
    job = mock_job(type="system", priority=50, constraints=[])
    tg = job.task_groups[0]
    task = tg.tasks[0]
    devices = [RequestedDevice(name="nvidia/gpu", count=gpus)] if gpus else []
    task = msgspec.structs.replace(
        task, resources=Resources(cpu=100, memory_mb=128, devices=devices)
    )
    networks = [NetworkResource(reserved_ports=[Port(label="http", value=port)])] if port else []
    tg = msgspec.structs.replace(tg, count=1, networks=networks, tasks=[task])
    return msgspec.structs.replace(job, task_groups=[tg])


def gpu_node(*ids: str) -> Node:
    node = mock_node()
    node.node_resources.devices = [
        NodeDeviceResource(
            vendor="nvidia",
            type="gpu",
            name="t4",
            instances=[NodeDevice(id=i, healthy=True) for i in ids],
        )
    ]
    node.computed_class = compute_node_class(node)
    return node


def run(h: Harness, job: Job) -> tuple[list[Allocation], list[Allocation]]:
    """(placed, preempted) across the plans."""
    stored = h.state.upsert_job(job)
    h.process(mock_eval(stored))
    placed = [a for p in h.plans for allocs in p.node_allocation.values() for a in allocs]
    evicted = [a for p in h.plans for allocs in p.node_preemptions.values() for a in allocs]
    return placed, evicted


@pytest.mark.parametrize(
    ("holder_priority", "preempted"),
    [pytest.param(40, True, id="ten-lower"), pytest.param(41, False, id="nine-lower")],
)
def test_static_port_holder_is_preempted_only_ten_priority_lower(
    holder_priority: int, preempted: bool
) -> None:
    h = Harness()
    node = h.state.upsert_node(mock_node())
    holder = existing(h, node, holder_priority, holding(ports=[8080]))
    bystander = existing(h, node, 10, holding(ports=[9090]))
    placed, evicted = run(h, system_job(port=8080))
    if not preempted:
        assert placed == [] and evicted == []
        failed = h.evals[-1].failed_tg_allocs["web"]
        assert failed.dimension_exhausted == {"network: reserved port collision http=8080": 1}
        return
    assert [a.id for a in evicted] == [holder.id]
    assert bystander.id not in {a.id for a in evicted}, "only the port's holder goes"
    (alloc,) = placed
    assert alloc.allocated_resources.shared.networks[0].reserved_ports[0].value == 8080
    assert alloc.preempted_allocations == [holder.id]


def test_a_port_the_node_reserves_is_never_preempted() -> None:
    h = Harness()
    node = mock_node(
        reserved_resources=msgspec.structs.replace(
            mock_node().reserved_resources,
            networks=NodeReservedNetworkResources(reserved_host_ports="8080"),
        )
    )
    h.state.upsert_node(node)
    existing(h, node, 10, holding(ports=[9090]))
    placed, evicted = run(h, system_job(port=8080))
    assert placed == [] and evicted == []


def test_device_holders_lowest_priority_first() -> None:
    h = Harness()
    node = h.state.upsert_node(gpu_node("g0", "g1"))
    low = existing(h, node, 10, holding(gpus=["g0"]))
    mid = existing(h, node, 30, holding(gpus=["g1"]))
    placed, evicted = run(h, system_job(gpus=1))
    assert [a.id for a in evicted] == [low.id]
    (alloc,) = placed
    assert alloc.allocated_resources.tasks["web"].devices[0].device_ids == ["g0"]
    assert mid.id not in {a.id for a in evicted}


def test_device_preemption_takes_as_many_holders_as_the_count_needs() -> None:
    h = Harness()
    node = h.state.upsert_node(gpu_node("g0", "g1", "g2"))
    a = existing(h, node, 10, holding(gpus=["g0"]))
    b = existing(h, node, 20, holding(gpus=["g1", "g2"]))
    placed, evicted = run(h, system_job(gpus=2))
    assert {x.id for x in evicted} in ({a.id, b.id}, {b.id})
    (alloc,) = placed
    assert len(alloc.allocated_resources.tasks["web"].devices[0].device_ids) == 2


def test_devices_held_by_a_close_priority_job_are_kept() -> None:
    h = Harness()
    node = h.state.upsert_node(gpu_node("g0"))
    existing(h, node, 45, holding(gpus=["g0"]))
    placed, evicted = run(h, system_job(gpus=1))
    assert placed == [] and evicted == []
    failed = h.evals[-1].failed_tg_allocs["web"]
    assert failed.dimension_exhausted == {"devices: no devices match request": 1}


def test_port_and_device_victims_are_both_recorded() -> None:
    h = Harness()
    node = h.state.upsert_node(gpu_node("g0"))
    on_port = existing(h, node, 10, holding(ports=[8080]))
    on_gpu = existing(h, node, 10, holding(gpus=["g0"]))
    job = system_job(port=8080, gpus=1)
    placed, evicted = run(h, job)
    assert {a.id for a in evicted} == {on_port.id, on_gpu.id}
    (alloc,) = placed
    assert sorted(alloc.preempted_allocations) == sorted([on_port.id, on_gpu.id])
