"""The WAN member table: every server of every region, merged from gossip (pure, no I/O).

Nomad keeps one Serf WAN pool of all servers of all regions; nomadic keeps the same list with
a much smaller push-pull gossip (``nomadic.rpc.gossip`` drives it over gRPC). Each server owns
its own record (a ``MemberInfo``): its addresses, whether it leads its region, ``status``
(alive or left) and an ``incarnation`` counter it bumps every gossip round. The counter starts
at the server's wall clock in milliseconds, so a restarted server outranks its old record.

    record arrives --merge--> higher incarnation than ours?  yes: take it, "advanced now"
                                                              no:  keep ours
    status(now):  left          the owner said so (graceful leave, or force-left by an operator)
                  failed        its record has not advanced for ``failure_timeout``
                  alive         otherwise
    reap(now):    failed or left for ``reap_timeout``: dropped, remembered as a tombstone so
                  gossip from a server that has not reaped it yet cannot bring it back

Every function takes ``now`` (monotonic seconds): tests drive the table with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from .wire import GossipEntry, MemberInfo

__all__ = [
    "DEFAULT_FAILURE_TIMEOUT",
    "DEFAULT_REAP_TIMEOUT",
    "STATUS_ALIVE",
    "STATUS_FAILED",
    "STATUS_LEFT",
    "MemberTable",
    "MemberView",
]

STATUS_ALIVE = "alive"
STATUS_FAILED = "failed"
STATUS_LEFT = "left"

DEFAULT_FAILURE_TIMEOUT = 10.0  # seconds without a newer record before a server is failed
DEFAULT_REAP_TIMEOUT = 72 * 3600.0  # Nomad's WAN reconnect timeout


@dataclass(frozen=True)
class MemberView:
    """A member as this server sees it now: its record, judged status, seconds since heard."""

    member: MemberInfo
    status: str
    age: float


@dataclass
class _Entry:
    member: MemberInfo
    advanced_at: float  # when its incarnation last went up (local monotonic clock)


@dataclass
class MemberTable:
    """This server's view of every server; ``own`` is the record it owns and bumps."""

    own: MemberInfo
    failure_timeout: float = DEFAULT_FAILURE_TIMEOUT
    reap_timeout: float = DEFAULT_REAP_TIMEOUT
    _others: dict[str, _Entry] = field(default_factory=dict)
    _tombstones: dict[str, int] = field(default_factory=dict)  # name -> reaped incarnation

    # -- the own record ---------------------------------------------------------------------

    def tick(self, *, leader: bool) -> MemberInfo:
        """One gossip round: bump the own incarnation and refresh the leader flag."""
        self.own = msgspec.structs.replace(
            self.own, incarnation=self.own.incarnation + 1, leader=leader
        )
        return self.own

    def leave(self) -> MemberInfo:
        """A graceful leave: the own record says ``left`` from now on."""
        self.own = msgspec.structs.replace(
            self.own, status=STATUS_LEFT, incarnation=self.own.incarnation + 1, leader=False
        )
        return self.own

    def force_leave(self, name: str, now: float) -> bool:
        """Mark another server left (``operator raft remove-peer``, Serf's force-leave); a live
        server refutes it by gossiping a higher incarnation."""
        entry = self._others.get(name)
        if entry is None:
            return False
        entry.member = msgspec.structs.replace(
            entry.member, status=STATUS_LEFT, incarnation=entry.member.incarnation + 1
        )
        entry.advanced_at = now
        return True

    # -- merging --------------------------------------------------------------------------

    def merge(self, entries: list[GossipEntry], now: float) -> list[MemberInfo]:
        """Take every record newer than ours; returns the members learnt or changed."""
        changed = []
        for entry in entries:
            record = entry.member
            if not record.name:
                continue
            if record.name == self.own.name:
                if record.incarnation > self.own.incarnation and self.own.status != STATUS_LEFT:
                    # someone says we left (force-leave) or holds a record of our previous
                    # life: outrank it, we are here
                    self.own = msgspec.structs.replace(self.own, incarnation=record.incarnation)
                continue
            known = self._others.get(record.name)
            if known is not None and record.incarnation <= known.member.incarnation:
                continue
            if known is None and record.incarnation <= self._tombstones.get(record.name, -1):
                continue
            self._tombstones.pop(record.name, None)
            # a record we had not seen: trust the sender's age of it, so a server that died
            # before we joined is not taken for alive for another failure timeout
            age = 0.0 if known is not None else max(entry.age, 0.0)
            self._others[record.name] = _Entry(record, now - age)
            changed.append(record)
        return changed

    def entries(self, now: float) -> list[GossipEntry]:
        """What this server gossips: every record it holds, its own first."""
        found = [GossipEntry(member=self.own, age=0.0)]
        found += [
            GossipEntry(member=e.member, age=max(now - e.advanced_at, 0.0))
            for e in self._others.values()
        ]
        return found

    # -- judging --------------------------------------------------------------------------

    def status(self, name: str, now: float) -> str:
        if name == self.own.name:
            return self.own.status
        entry = self._others.get(name)
        if entry is None:
            return ""
        return self._judge(entry, now)

    def _judge(self, entry: _Entry, now: float) -> str:
        if entry.member.status == STATUS_LEFT:
            return STATUS_LEFT
        if now - entry.advanced_at > self.failure_timeout:
            return STATUS_FAILED
        return STATUS_ALIVE

    def views(self, now: float) -> list[MemberView]:
        """Every member (the own one included), sorted by name."""
        found = [MemberView(self.own, self.own.status, 0.0)]
        found += [
            MemberView(e.member, self._judge(e, now), max(now - e.advanced_at, 0.0))
            for e in self._others.values()
        ]
        return sorted(found, key=lambda v: v.member.name)

    def alive(self, region: str, now: float) -> list[MemberInfo]:
        """The live servers of ``region`` (the own one included when it is of that region)."""
        return [
            v.member
            for v in self.views(now)
            if v.member.region == region and v.status == STATUS_ALIVE
        ]

    def regions(self) -> list[str]:
        """Every region with a known (not reaped) server, sorted."""
        return sorted({self.own.region, *(e.member.region for e in self._others.values())})

    def last_seen(self, region: str, now: float) -> float | None:
        """Seconds since any server of ``region`` was last heard of; None: none known."""
        ages = [v.age for v in self.views(now) if v.member.region == region]
        return min(ages) if ages else None

    def reap(self, now: float) -> list[str]:
        """Drop members failed or left for ``reap_timeout``; returns their names."""
        gone = [
            name
            for name, e in self._others.items()
            if self._judge(e, now) != STATUS_ALIVE and now - e.advanced_at > self.reap_timeout
        ]
        for name in gone:
            self._tombstones[name] = self._others.pop(name).member.incarnation
        return gone
