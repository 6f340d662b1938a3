"""Host fingerprint attributes (Nomad's names) and the computed class."""

from __future__ import annotations

import copy

from nomadic.client.durations import go_duration
from nomadic.client.fingerprint import computed_class
from nomadic.client.fingerprint import host as fp
from nomadic.structs import Node
from nomadic.structs.consts import HOUR, MINUTE, SECOND

CPUINFO = "processor\t: 0\nmodel name\t: Test CPU @ 2.4GHz\ncpu MHz\t\t: 2400.000\n"


def test_cpu_from_cpuinfo() -> None:
    attrs = fp.cpu(CPUINFO)
    cores = int(attrs["cpu.numcores"])
    assert attrs["cpu.frequency"] == "2400"
    assert attrs["cpu.totalcompute"] == str(2400 * cores)
    assert attrs["cpu.modelname"] == "Test CPU @ 2.4GHz"
    assert attrs["cpu.arch"] in ("amd64", "arm64") or attrs["cpu.arch"]


def test_cpu_falls_back_to_a_frequency() -> None:
    attrs = fp.cpu("")
    assert int(attrs["cpu.frequency"]) > 0


def test_host_and_network_attributes() -> None:
    attrs = {**fp.host(), **fp.network("127.0.0.1"), **fp.memory()}
    assert attrs["kernel.name"] == "linux"
    assert attrs["unique.hostname"]
    assert attrs["unique.network.ip-address"] == "127.0.0.1"
    assert int(attrs["memory.totalbytes"]) > 0


def test_computed_class_ignores_unique_attributes() -> None:
    a = Node(id="1", attributes={"kernel.name": "linux", "unique.hostname": "a"})
    b = copy.deepcopy(a)
    b.attributes["unique.hostname"] = "b"
    c = copy.deepcopy(a)
    c.attributes["kernel.name"] = "darwin"
    assert computed_class(a) == computed_class(b) != computed_class(c)


def test_go_durations() -> None:
    cases = {
        0: "0s",
        SECOND: "1s",
        MINUTE: "1m0s",
        24 * HOUR: "24h0m0s",
        15_234_000_000: "15.234s",
        250_000_000: "250ms",
        90 * SECOND: "1m30s",
    }
    assert {k: go_duration(k) for k in cases} == cases
