"""Device requests (``device "nvidia/gpu" { count, constraint, affinity }``) through the
Harness: matching, instance assignment, exhaustion, constraints with units, affinity score."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.structs import (
    Affinity,
    Allocation,
    Attribute,
    Constraint,
    Job,
    Node,
    NodeDevice,
    NodeDeviceResource,
    RequestedDevice,
    from_builtins,
)
from nomadic.structs.funcs import allocs_fit, compute_node_class
from nomadic.testing.factories import mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness


def gpus(
    model: str, memory_gib: int, ids: list[str], *, healthy: bool = True
) -> NodeDeviceResource:
    return NodeDeviceResource(
        vendor="nvidia",
        type="gpu",
        name=model,
        instances=[NodeDevice(id=i, healthy=healthy) for i in ids],
        attributes={"memory": Attribute(int_val=memory_gib, unit="GiB")},
    )


def gpu_node(name: str, *groups: NodeDeviceResource) -> Node:
    node = mock_node(name=name)
    node.node_resources.devices = list(groups)
    node.computed_class = compute_node_class(node)
    return node


def gpu_job(count: int, request: RequestedDevice) -> Job:
    job = mock_job(constraints=[])
    tg = job.task_groups[0]
    task = tg.tasks[0]
    resources = msgspec.structs.replace(task.resources, devices=[request])
    task = msgspec.structs.replace(task, resources=resources)
    tg = msgspec.structs.replace(tg, count=count, networks=[], tasks=[task])
    return msgspec.structs.replace(job, task_groups=[tg])


def run(h: Harness, job: Job) -> list[Allocation]:
    stored = h.state.upsert_job(job)
    h.process(mock_eval(stored))
    return [a for p in h.plans for allocs in p.node_allocation.values() for a in allocs]


def harness(*nodes: Node) -> Harness:
    h = Harness()
    for node in nodes:
        h.state.upsert_node(node)
    return h


def device_ids(alloc: Allocation) -> list[str]:
    return [i for d in alloc.allocated_resources.tasks["web"].devices for i in d.device_ids]


@pytest.mark.parametrize("name", ["gpu", "nvidia/gpu", "nvidia/gpu/1080ti"])
def test_request_names_match_type_vendor_and_model(name: str) -> None:
    node = gpu_node("n1", gpus("1080ti", 11, ["g0", "g1"]))
    (alloc,) = run(harness(node), gpu_job(1, RequestedDevice(name=name, count=2)))
    (device,) = alloc.allocated_resources.tasks["web"].devices
    assert (device.vendor, device.type, device.name) == ("nvidia", "gpu", "1080ti")
    assert sorted(device.device_ids) == ["g0", "g1"]


def test_a_node_without_enough_devices_is_filtered_with_a_reason() -> None:
    h = harness(gpu_node("n1", gpus("1080ti", 11, ["g0"])), mock_node(name="plain"))
    assert run(h, gpu_job(1, RequestedDevice(name="nvidia/gpu", count=2))) == []
    failed = h.evals[-1].failed_tg_allocs["web"]
    assert failed.constraint_filtered == {"missing devices": 2}
    assert failed.nodes_filtered == 2


def test_instances_are_not_handed_out_twice() -> None:
    h = harness(
        gpu_node("n1", gpus("1080ti", 11, ["a0", "a1"])),
        gpu_node("n2", gpus("1080ti", 11, ["b0", "b1"])),
    )
    allocs = run(h, gpu_job(3, RequestedDevice(name="gpu", count=2)))
    assert len(allocs) == 2
    held = sorted(i for a in allocs for i in device_ids(a))
    assert held == ["a0", "a1", "b0", "b1"]
    failed = h.evals[-1].failed_tg_allocs["web"]
    assert failed.dimension_exhausted == {"devices: no devices match request": 2}


def test_unhealthy_instances_are_not_used() -> None:
    node = gpu_node("n1", gpus("1080ti", 11, ["g0"], healthy=False), gpus("t4", 16, ["t0"]))
    (alloc,) = run(harness(node), gpu_job(1, RequestedDevice(name="gpu")))
    assert device_ids(alloc) == ["t0"]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (Constraint(l_target="${device.attr.memory}", operand=">=", r_target="10 GiB"), "big"),
        (Constraint(l_target="${device.attr.memory}", operand="<", r_target="9000 MiB"), "small"),
        (Constraint(l_target="${device.model}", operand="=", r_target="1080ti"), "big"),
        (Constraint(l_target="${device.model}", operand="regexp", r_target="^t"), "small"),
        (Constraint(l_target="${device.vendor}", operand="!=", r_target="nvidia"), None),
    ],
    ids=["memory-units", "memory-mib", "model", "regexp", "vendor"],
)
def test_device_constraints(constraint: Constraint, expected: str | None) -> None:
    h = harness(
        gpu_node("big", gpus("1080ti", 11, ["b0"])), gpu_node("small", gpus("t4", 8, ["s0"]))
    )
    allocs = run(h, gpu_job(1, RequestedDevice(name="gpu", constraints=[constraint])))
    assert [a.node_name for a in allocs] == ([expected] if expected else [])


def test_device_affinity_picks_the_group_and_scores_it() -> None:
    node = gpu_node("n1", gpus("t4", 16, ["t0"]), gpus("1080ti", 11, ["g0"]))
    request = RequestedDevice(
        name="gpu",
        affinities=[
            Affinity(l_target="${device.model}", operand="=", r_target="1080ti", weight=50)
        ],
    )
    (alloc,) = run(harness(node), gpu_job(1, request))
    assert device_ids(alloc) == ["g0"]
    assert alloc.metrics is not None
    (meta,) = alloc.metrics.score_meta_data
    assert meta.scores["devices"] == pytest.approx(1.0)


def test_plan_applier_rejects_an_instance_held_twice() -> None:
    node = gpu_node("n1", gpus("1080ti", 11, ["g0", "g1"]))
    allocs = run(harness(node), gpu_job(1, RequestedDevice(name="gpu")))
    twin = msgspec.structs.replace(allocs[0], id="other")
    assert allocs_fit(node, allocs) == (True, "")
    assert allocs_fit(node, [*allocs, twin]) == (False, "device oversubscribed")


def test_devices_change_the_computed_class_and_decode_from_nomad_json() -> None:
    plain = mock_node(id="11111111-2222-3333-4444-555555555555")
    with_gpu = gpu_node("n1", gpus("1080ti", 11, ["g0"]))
    with_gpu = msgspec.structs.replace(with_gpu, id=plain.id, name=plain.name)
    assert compute_node_class(plain) != compute_node_class(with_gpu)
    resources = from_builtins(
        {
            "Devices": [
                {
                    "Vendor": "nvidia",
                    "Type": "gpu",
                    "Name": "1080ti",
                    "Instances": [{"ID": "GPU-1", "Healthy": True}],
                    "Attributes": {"memory": {"IntVal": 11, "Unit": "GiB", "FloatVal": None}},
                }
            ]
        },
        type(plain.node_resources),
    )
    (group,) = resources.devices
    assert group.instances[0].id == "GPU-1" and group.attributes["memory"].int_val == 11
