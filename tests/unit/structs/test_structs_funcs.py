"""allocs_fit, the fit scores and port parsing (nomadic.structs.funcs)."""

from __future__ import annotations

import math

import msgspec
import pytest

from nomadic.structs import (
    AllocatedPortMapping,
    AllocatedSharedResources,
    NodeCpuResources,
    NodeMemoryResources,
    NodeReservedResources,
)
from nomadic.structs.funcs import (
    allocs_fit,
    compute_node_class,
    parse_port_ranges,
    score_fit_binpack,
    score_fit_spread,
)
from nomadic.structs.node import NodeReservedCpuResources, NodeReservedNetworkResources
from nomadic.testing.factories import mock_alloc, mock_job, mock_node


def _alloc(cpu: int = 500, mem: int = 256, disk: int = 150, ports: list[int] | None = None):
    job = mock_job()
    alloc = mock_alloc(job)
    res = alloc.allocated_resources
    res.tasks["web"].cpu.cpu_shares = cpu
    res.tasks["web"].memory.memory_mb = mem
    res.shared = AllocatedSharedResources(
        disk_mb=disk,
        ports=[AllocatedPortMapping(label=f"p{p}", value=p) for p in ports or []],
    )
    return alloc


@pytest.mark.parametrize(
    ("allocs", "expected"),
    [
        pytest.param([], (True, ""), id="empty"),
        pytest.param([_alloc(), _alloc()], (True, ""), id="two-small"),
        pytest.param([_alloc(cpu=4000)], (True, ""), id="exactly-full-cpu"),
        pytest.param([_alloc(cpu=3000), _alloc(cpu=1001)], (False, "cpu"), id="cpu"),
        pytest.param([_alloc(mem=8193)], (False, "memory"), id="memory"),
        pytest.param([_alloc(disk=100 * 1024 + 1)], (False, "disk"), id="disk"),
        pytest.param(
            [_alloc(ports=[8080]), _alloc(ports=[8080])],
            (False, "network: port collision"),
            id="port-collision",
        ),
        pytest.param([_alloc(ports=[8080]), _alloc(ports=[8081])], (True, ""), id="distinct-ports"),
    ],
)
def test_allocs_fit(allocs, expected) -> None:
    assert allocs_fit(mock_node(), allocs) == expected


def test_allocs_fit_ignores_client_terminal_allocs() -> None:
    done = msgspec.structs.replace(_alloc(cpu=4000), client_status="complete")
    assert allocs_fit(mock_node(), [done, _alloc(cpu=4000)]) == (True, "")


def test_allocs_fit_subtracts_reserved_resources_and_ports() -> None:
    node = mock_node(
        reserved_resources=NodeReservedResources(
            cpu=NodeReservedCpuResources(cpu_shares=1000),
            networks=NodeReservedNetworkResources(reserved_host_ports="22,8000-8010"),
        )
    )
    assert allocs_fit(node, [_alloc(cpu=3000)]) == (True, "")
    assert allocs_fit(node, [_alloc(cpu=3001)]) == (False, "cpu")
    assert allocs_fit(node, [_alloc(ports=[8005])]) == (False, "network: port collision")


def _node(cpu: int = 4000, mem: int = 8192):
    node = mock_node()
    node.node_resources.cpu = NodeCpuResources(cpu_shares=cpu)
    node.node_resources.memory = NodeMemoryResources(memory_mb=mem)
    return node


@pytest.mark.parametrize(
    ("util", "binpack", "spread"),
    [
        pytest.param((0, 0, 0), 0.0, 18.0, id="empty-node"),
        pytest.param((4000, 8192, 0), 18.0, 0.0, id="full-node"),
        pytest.param((2000, 4096, 0), 20 - 2 * math.sqrt(10), 2 * math.sqrt(10) - 2, id="half"),
        pytest.param(
            (1000, 6144, 0),
            20 - (10**0.75 + 10**0.25),
            (10**0.75 + 10**0.25) - 2,
            id="mixed",
        ),
    ],
)
def test_fit_scores(util, binpack, spread) -> None:
    node = _node()
    assert score_fit_binpack(node, util) == pytest.approx(binpack)
    assert score_fit_spread(node, util) == pytest.approx(spread)


def test_binpack_prefers_fuller_nodes() -> None:
    node = _node()
    assert score_fit_binpack(node, (3000, 6000, 0)) > score_fit_binpack(node, (1000, 2000, 0))


@pytest.mark.parametrize(
    ("spec", "ports"),
    [
        pytest.param("", set(), id="empty"),
        pytest.param("22", {22}, id="single"),
        pytest.param("22, 80,8000-8002", {22, 80, 8000, 8001, 8002}, id="mixed"),
    ],
)
def test_parse_port_ranges(spec: str, ports: set[int]) -> None:
    assert parse_port_ranges(spec) == ports


def test_parse_port_ranges_rejects_backwards_range() -> None:
    with pytest.raises(ValueError, match="start is after end"):
        parse_port_ranges("90-80")


def test_node_class_ignores_unique_attributes() -> None:
    a, b = mock_node(), mock_node()
    assert a.attributes["unique.hostname"] != b.attributes["unique.hostname"]
    assert compute_node_class(a) == compute_node_class(b)
    c = mock_node(node_class="gpu")
    assert compute_node_class(c) != compute_node_class(a)
