"""The WAN member table: merging gossip by incarnation, failure detection, reaping (a fake
clock; no sleeps, no sockets)."""

from __future__ import annotations

import pytest

from nomadic.rpc.membership import MemberTable
from nomadic.rpc.wire import GossipEntry, MemberInfo


def member(name: str, incarnation: int, *, status: str = "alive", region: str = "") -> MemberInfo:
    region = region or name.rpartition(".")[2]
    return MemberInfo(
        name=name,
        region=region,
        rpc_addr=f"{name}:4647",
        http_addr=f"{name}:4646",
        status=status,
        incarnation=incarnation,
    )


def entry(name: str, incarnation: int, *, age: float = 0.0, status: str = "alive") -> GossipEntry:
    return GossipEntry(member=member(name, incarnation, status=status), age=age)


def table() -> MemberTable:
    return MemberTable(member("a.eu", 100), failure_timeout=10.0, reap_timeout=60.0)


# (what we hold of b.us, what arrives, incarnation we end with, status at now=100)
MERGES = [
    pytest.param(None, entry("b.us", 5), 5, "alive", id="unknown-member-is-learnt"),
    pytest.param(3, entry("b.us", 5), 5, "alive", id="higher-incarnation-wins"),
    pytest.param(7, entry("b.us", 5), 7, "alive", id="lower-incarnation-ignored"),
    pytest.param(5, entry("b.us", 5, age=50), 5, "alive", id="equal-incarnation-ignored"),
    pytest.param(3, entry("b.us", 9, status="left"), 9, "left", id="newer-leave-wins"),
    pytest.param(None, entry("b.us", 5, age=30), 5, "failed", id="learnt-stale-is-failed"),
    pytest.param(None, entry("b.us", 5, age=4), 5, "alive", id="learnt-recent-is-alive"),
]


@pytest.mark.parametrize(("held", "incoming", "incarnation", "status"), MERGES)
def test_merge(held: int | None, incoming: GossipEntry, incarnation: int, status: str) -> None:
    t = table()
    if held is not None:
        t.merge([entry("b.us", held)], now=100.0)
    t.merge([incoming], now=100.0)
    (view,) = [v for v in t.views(100.0) if v.member.name == "b.us"]
    assert (view.member.incarnation, view.status) == (incarnation, status)


def test_merge_reports_only_what_changed() -> None:
    t = table()
    assert [m.name for m in t.merge([entry("b.us", 1), entry("c.eu", 1)], now=0.0)] == [
        "b.us",
        "c.eu",
    ]
    assert [m.name for m in t.merge([entry("b.us", 1), entry("c.eu", 2)], now=1.0)] == ["c.eu"]


def test_a_member_whose_counter_stops_is_failed_after_the_timeout() -> None:
    t = table()
    t.merge([entry("b.us", 1)], now=0.0)
    t.merge([entry("b.us", 2)], now=5.0)
    assert t.status("b.us", 15.0) == "alive"  # 10 s after its last advance, not more
    assert t.status("b.us", 15.1) == "failed"
    assert t.alive("us", 15.1) == []
    t.merge([entry("b.us", 3)], now=16.0)  # it came back
    assert [m.name for m in t.alive("us", 16.0)] == ["b.us"]


def test_own_record_is_always_alive_and_ticks() -> None:
    t = table()
    assert t.status("a.eu", 1e9) == "alive"
    own = t.tick(leader=True)
    assert (own.incarnation, own.leader) == (101, True)
    assert t.entries(0.0)[0].member == own


def test_own_record_refutes_a_force_leave() -> None:
    t = table()
    t.merge([entry("a.eu", 500, status="left")], now=0.0)
    assert t.status("a.eu", 0.0) == "alive"
    assert t.tick(leader=False).incarnation == 501  # outranks the "left" record


def test_graceful_leave() -> None:
    t = table()
    own = t.leave()
    assert (own.status, own.incarnation) == ("left", 101)


def test_force_leave_marks_another_left() -> None:
    t = table()
    t.merge([entry("b.us", 4)], now=0.0)
    assert t.force_leave("b.us", now=1.0)
    assert t.status("b.us", 1.0) == "left"
    assert not t.force_leave("nobody.us", now=1.0)


def test_failed_and_left_members_are_reaped_and_not_resurrected_by_old_gossip() -> None:
    t = table()
    t.merge([entry("b.us", 4), entry("c.eu", 4, status="left"), entry("d.eu", 1)], now=0.0)
    t.merge([entry("d.eu", 2)], now=55.0)
    assert sorted(t.reap(61.0)) == ["b.us", "c.eu"]
    assert [v.member.name for v in t.views(61.0)] == ["a.eu", "d.eu"]
    assert t.regions() == ["eu"]
    t.merge([entry("b.us", 4)], now=62.0)  # a peer that has not reaped it yet
    assert t.status("b.us", 62.0) == ""
    t.merge([entry("b.us", 9000)], now=63.0)  # restarted: a newer incarnation
    assert t.status("b.us", 63.0) == "alive"


def test_regions_and_last_seen() -> None:
    t = table()
    t.merge([entry("b.us", 1, age=3.0), entry("c.us", 1, age=7.0)], now=10.0)
    assert t.regions() == ["eu", "us"]
    assert t.last_seen("us", 10.0) == pytest.approx(3.0)
    assert t.last_seen("ap", 10.0) is None
