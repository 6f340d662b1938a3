"""Host volumes in the placement stack: which nodes can take a group's volume requests."""

from __future__ import annotations

import pytest

from nomadic.scheduler.context import EvalContext
from nomadic.scheduler.feasible import ready_nodes_in_dcs_and_pool
from nomadic.scheduler.stack import GenericStack, SelectOptions
from nomadic.scheduler.volumes import FILTER_HOST_VOLUMES
from nomadic.structs import ClientHostVolumeConfig, Node, Plan, VolumeRequest
from nomadic.structs.funcs import compute_node_class
from nomadic.testing.factories import mock_job, mock_node
from nomadic.testing.harness import InMemoryState


def _node(**volumes: bool) -> Node:
    """A node offering ``name=read_only`` host volumes."""
    offered = {
        name: ClientHostVolumeConfig(name=name, path=f"/srv/{name}", read_only=ro)
        for name, ro in volumes.items()
    }
    return mock_node(host_volumes=offered)


def _select(nodes: list[Node], requests: dict[str, VolumeRequest], alloc_name: str = ""):
    state = InMemoryState()
    for node in nodes:
        state.upsert_node(node)
    job = mock_job()
    job.task_groups[0].volumes = requests
    ctx = EvalContext(state, Plan(job=job), "eval-1")
    stack = GenericStack(False, ctx)
    ready, _ = ready_nodes_in_dcs_and_pool(state, job.datacenters, job.node_pool)
    stack.set_nodes(ready)
    stack.set_job(job)
    option = stack.select(job.task_groups[0], SelectOptions(alloc_name=alloc_name))
    return option, ctx


def _req(source: str, read_only: bool = False, **kw: object) -> VolumeRequest:
    return VolumeRequest(name=source, type="host", source=source, read_only=read_only, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offered", "requests", "ok"),
    [
        pytest.param({}, {}, True, id="no-requests"),
        pytest.param({"data": False}, {"d": _req("data")}, True, id="rw-offered-rw-wanted"),
        pytest.param({"data": False}, {"d": _req("data", True)}, True, id="rw-offered-ro-wanted"),
        pytest.param({"data": True}, {"d": _req("data", True)}, True, id="ro-offered-ro-wanted"),
        pytest.param({"data": True}, {"d": _req("data")}, False, id="ro-offered-rw-wanted"),
        pytest.param(
            {"data": True}, {"a": _req("data", True), "b": _req("data")}, False, id="one-rw-of-two"
        ),
        pytest.param({"logs": False}, {"d": _req("data")}, False, id="other-volume"),
        pytest.param({}, {"d": _req("data")}, False, id="no-volumes"),
        pytest.param(
            {"data": False},
            {"d": VolumeRequest(type="csi", source="ebs")},
            True,
            id="csi-not-checked-here",
        ),
    ],
)
def test_host_volume_checker(
    offered: dict[str, bool], requests: dict[str, VolumeRequest], ok: bool
) -> None:
    option, ctx = _select([_node(**offered)], requests)
    assert (option is not None) is ok
    if not ok:
        assert ctx.metrics.constraint_filtered == {FILTER_HOST_VOLUMES: 1}


def test_placement_picks_the_node_with_the_volume() -> None:
    nodes = [_node(), _node(logs=False), _node(data=False), _node(data=True)]
    for _ in range(5):
        option, ctx = _select(nodes, {"d": _req("data")})
        assert option is not None and option.node.id == nodes[2].id
        assert ctx.metrics.constraint_filtered == {FILTER_HOST_VOLUMES: 3}


def test_per_alloc_volume_names_carry_the_alloc_index() -> None:
    """data[0] and data[1]: one stack places both indexes, so a verdict cached for one
    index must not be reused for the other."""
    first, second = _node(**{"data[0]": False}), _node(**{"data[1]": False})
    state = InMemoryState()
    for node in (first, second):
        state.upsert_node(node)
    job = mock_job()
    tg = job.task_groups[0]
    tg.volumes = {"d": _req("data", per_alloc=True)}
    ctx = EvalContext(state, Plan(job=job), "eval-1")
    stack = GenericStack(False, ctx)
    stack.set_nodes([first, second])
    stack.set_job(job)
    for _ in range(3):
        for index, node in ((0, first), (1, second)):
            option = stack.select(tg, SelectOptions(alloc_name=f"example.web[{index}]"))
            assert option is not None and option.node.id == node.id


def test_volumes_are_part_of_the_computed_class() -> None:
    plain, ro, rw = _node(), _node(data=True), _node(data=False)
    classes = {compute_node_class(n) for n in (plain, ro, rw)}
    assert len(classes) == 3
    assert compute_node_class(_node(data=False)) == compute_node_class(rw)
