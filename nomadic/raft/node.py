"""The pysyncobj adapter: our FSM replicated through exactly one method, ``apply(entry)``.

pysyncobj runs its own thread (networking, elections, applying entries, callbacks). This module
is the only place that knows it exists:

- :class:`RaftNode.apply` hands an entry to pysyncobj from the event loop and awaits the
  commit through a future the callback thread completes with ``call_soon_threadsafe``;
- leadership changes are delivered to listeners on the event loop;
- snapshots (log compaction) go through our msgpack serializer, never pickle of our objects.

Replicated methods are numbered by pysyncobj by sorting their names, so there is only one.
The entry itself is our versioned msgpack envelope (``nomadic.state.entries``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import pickle
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, replicated
from pysyncobj.node import TCPNode
from pysyncobj.transport import TCPTransport

from nomadic.errors import ConfigError, NoLeaderError, NotFoundError, RaftError, ValidationError
from nomadic.state.entries import decode_envelope
from nomadic.state.fsm import FSM, ApplyResult
from nomadic.telemetry import default_sink

from .journal import check_journal

__all__ = ["RaftConfig", "RaftNode"]

log = logging.getLogger(__name__)

DEFAULT_APPLY_TIMEOUT = 10.0
# A follower starts an election when it has heard nothing from the leader for a random time
# in [min, max). pysyncobj's 0.4-1.4 s was too tight for a loaded 2-core machine: at 5,000
# C1M nodes its Raft thread went up to 1 s without running (GIL and CPU shared with the
# event loop and the schedulers; stats() "max_tick_gap_ms"), so followers started elections
# in the middle of the run. Nomad's defaults (1-2 s) ride that out.
CLUSTER_MIN_TIMEOUT = 1.0
CLUSTER_MAX_TIMEOUT = 2.0
_RAFT_LEADER = 2  # pysyncobj's _RAFT_STATE.LEADER
_STATE_NAMES = {0: "follower", 1: "candidate", 2: "leader"}  # hashicorp/raft's metric names

LeadershipListener = Callable[[bool], None]


class RaftConfig(msgspec.Struct, kw_only=True):
    """How this server joins its Raft cluster."""

    self_addr: str  # "host:port" this server listens on for Raft peers
    partners: list[str] = msgspec.field(default_factory=list)  # the other servers
    data_dir: str | None = None  # journal + snapshot here; None keeps the log in memory
    password: str | None = None  # encrypts peer traffic; required off loopback
    # Election timeouts; None: in a cluster Nomad's 1-2 s (hashicorp/raft's ElectionTimeout
    # of 1 s, randomised up to twice that) times ``raft_multiplier``; 0.05-0.1 s for a lone
    # server (nobody to race, so the dev agent leads almost at once).
    raft_min_timeout: float | None = None
    raft_max_timeout: float | None = None
    raft_multiplier: int = 1


class _SnapshotFile(msgspec.Struct, array_like=True):
    version: int
    last_entries: list[tuple[bytes, int, int]]  # pysyncobj's (command, index, term) x2
    cluster: list[str]
    fsm: bytes


MAX_ENTRY_BYTES = 1 << 28  # 256 MiB: no entry of ours comes near it
SLOW_APPLY = 0.5  # seconds; an FSM apply this long is logged
APPLY_SLICE = 0.05  # seconds of FSM applies per Raft tick (see _Replicated)


class _Transport(TCPTransport):  # type: ignore[misc]
    """pysyncobj's TCP transport with its leader's follower bookkeeping fixed.

    With ``appendEntriesUseBatch=False`` the leader sends entries as they arrive and moves
    its ``nextIndex`` for a follower past them at once (pipelining). Each append is answered
    with ``next_node_idx`` = (last index it carried) + 1, and pysyncobj (0.3.17) sets
    ``nextIndex`` to that value whenever the reply raises ``matchIndex``, so a reply to an
    earlier append moves ``nextIndex`` *back* over entries already on their way. The leader
    then sends them again; the follower, which has them by then, deletes everything after the
    append's previous entry without comparing terms (logging CRITICAL "truncating
    already-applied log entries ... may have diverged") and appends the same entries again.
    Measured: 2,000 writes with 64 in flight, 3 in-process servers, 119 such backward moves
    and 2 truncations (tests/unit/raft/test_raft_burst.py). The entries are identical, so the
    state did not diverge, but each resend of a 1.5 MB plan result costs the leader's Raft
    thread a pickle and a send, the follower a journal rewrite, and when a resend carries
    fewer entries than it deletes (over ``appendEntriesBatchSizeBytes``) a follower that
    helped commit an entry briefly lacks it, which Raft's safety argument does not allow.

    Raft's rule is that a success reply only ever raises ``nextIndex``: a reply to an older
    append says nothing about the newer ones in flight (TCP keeps them in order; a lost
    connection makes the follower answer the next append with ``reset``, which still moves
    ``nextIndex`` back). So after pysyncobj handled a successful, non-reset reply we restore
    ``nextIndex`` if it went down.
    """

    stale_acks = 0  # replies whose nextIndex we restored (RaftNode.stats())

    def setOnMessageReceivedCallback(self, callback: Callable[[Any, Any], None] | None) -> None:
        if callback is None:
            super().setOnMessageReceivedCallback(None)
            return
        handle = callback

        def on_message(node: Any, message: Any) -> None:
            if (
                not isinstance(message, dict)
                or message.get("type") != "next_node_idx"
                or not message.get("success")
                or message.get("reset")
            ):
                handle(node, message)
                return
            next_index: dict[Any, int] = getattr(self._syncObj, "_SyncObj__raftNextIndex", {})
            before = next_index.get(node)
            handle(node, message)
            if before is not None and node in next_index and next_index[node] < before:
                next_index[node] = before
                self.stale_acks += 1

        super().setOnMessageReceivedCallback(on_message)


class _Replicated(SyncObj):  # type: ignore[misc]
    """The SyncObj subclass: the one replicated method, and a sliced apply loop."""

    _SyncObj__raftCommitIndex: int  # pysyncobj's private state this class reads
    _SyncObj__raftLastApplied: int
    _SyncObj__raftLog: Any

    def __init__(self, cfg: RaftConfig, conf: SyncObjConf, fsm: FSM) -> None:
        self._fsm = fsm
        self.apply_seconds = 0.0  # time spent in FSM applies (RaftNode's tick diagnostics)
        self.max_apply = 0.0  # the longest single apply
        self.applies_deferred = 0  # ticks that left committed entries for the next tick
        self.max_compaction = 0.0  # the longest log compaction step on the Raft thread
        super().__init__(cfg.self_addr, cfg.partners, conf, transportClass=_Transport)

    # pysyncobj applies every committed entry in one go on its only thread, the one that also
    # sends heartbeats and answers the leader. Under load that was seconds of applying (at
    # 5,000 C1M nodes: ticks of up to 4.2 s, of which at most 0.9 s was not applying; a 1,000
    # allocation plan result alone takes 0.5-1 s on a follower), during which the leader sent
    # no heartbeats and followers read none, so followers started elections mid-run. (Nomad's
    # raft applies on its own goroutine.) This overrides SyncObj's private
    # ``__applyLogEntries`` (Python looks the mangled name up on the instance) to apply for at
    # most APPLY_SLICE seconds per tick, then let the tick send and receive, and wake the
    # poller so the rest is applied on the next tick. Entries stay in order and each is
    # applied once: the original method applies them, one commit index at a time.
    def _SyncObj__applyLogEntries(self) -> bool:
        apply_batch = SyncObj._SyncObj__applyLogEntries
        commit = self._SyncObj__raftCommitIndex
        start = time.monotonic()
        need_send = False
        try:
            while self._SyncObj__raftLastApplied < commit:
                before = self._SyncObj__raftLastApplied
                self._SyncObj__raftCommitIndex = before + 1
                need_send = bool(apply_batch(self)) or need_send
                if self._SyncObj__raftLastApplied == before:
                    break  # not applied (pysyncobj logged why): do not spin on it
                if time.monotonic() - start > APPLY_SLICE:
                    break
        finally:
            self._SyncObj__raftCommitIndex = commit
        if self._SyncObj__raftLastApplied < commit:
            self.applies_deferred += 1
            notifier = getattr(self, "_SyncObj__pipeNotifier", None)
            if notifier is not None:
                notifier.notify()
        return need_send

    def _SyncObj__tryLogCompaction(self) -> None:
        # Timed for diagnostics only: starting a compaction forks the server, finishing one
        # rewrites the journal's remaining entries (pysyncobj's FileJournal.deleteEntriesTo),
        # both on the Raft thread.
        start = time.monotonic()
        SyncObj._SyncObj__tryLogCompaction(self)
        took = time.monotonic() - start
        self.max_compaction = max(self.max_compaction, took)
        if took > SLOW_APPLY:
            log.warning(
                "raft log compaction step took %.1fs (log: %d entries); meanwhile this "
                "server's Raft thread sent and answered nothing",
                took,
                len(self._SyncObj__raftLog),
            )

    @replicated  # type: ignore[misc, untyped-decorator]
    def apply(self, entry: bytes) -> ApplyResult:
        last_applied = getattr(self, "_SyncObj__raftLastApplied", None)
        index = last_applied + 1 if isinstance(last_applied, int) else self._fsm.last_index + 1
        start = time.monotonic()
        try:
            return self._fsm.apply(index, entry)
        except Exception as exc:  # a bug in a handler must not kill the raft thread
            log.exception("applying raft entry %d failed", index)
            return ApplyResult(index, error=f"apply failed: {exc}")
        finally:
            default_sink.measure_since("nomad.raft.fsm.apply", start)
            took = time.monotonic() - start
            self.apply_seconds += took
            self.max_apply = max(self.max_apply, took)
            if took > SLOW_APPLY:
                log.warning(
                    "raft entry %d (%s, %d bytes) took %.1fs to apply; meanwhile this "
                    "server's Raft thread sent and answered nothing",
                    index,
                    _entry_kind(entry),
                    len(entry),
                    took,
                )


def _entry_kind(entry: bytes) -> str:
    try:
        return decode_envelope(entry)[1].name
    except Exception:  # only for a log line
        return "undecodable"


class RaftNode:
    """One Raft member hosting ``fsm``. Create, then ``await start()`` on the event loop."""

    def __init__(self, cfg: RaftConfig, fsm: FSM) -> None:
        self.cfg = cfg
        self.fsm = fsm
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: list[LeadershipListener] = []
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._obj: _Replicated | None = None
        self._was_leader = False
        # writes awaiting their commit callback; a set (not a counter) so a callback that
        # never fires is forgotten on timeout instead of keeping the kick spinning forever
        self._inflight: set[int] = set()
        self._inflight_ids = itertools.count()
        self._inflight_lock = threading.Lock()
        # diagnostics (stats()): elections this server started, the longest gap between two
        # ticks of pysyncobj's thread, and how many gaps exceeded the election timeout
        self._elections = 0
        self._last_tick = 0.0
        self._max_tick_gap = 0.0
        self._long_ticks = 0
        self._max_tick_wait = 0.0
        self._applying = 0.0
        self._min_timeout = 0.4

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        _refuse_open_unencrypted(self.cfg)
        self._loop = asyncio.get_running_loop()
        if self.cfg.data_dir is None:
            # pysyncobj only calls a custom serializer for on-disk dumps: keep the dump in a
            # private temp dir, the log itself stays in memory.
            self._tmpdir = tempfile.TemporaryDirectory(prefix="nomadic-raft-")
            raft_dir = Path(self._tmpdir.name)
            journal = None
        else:
            raft_dir = Path(self.cfg.data_dir) / "raft"
            raft_dir.mkdir(parents=True, exist_ok=True)
            journal = str(raft_dir / "journal")
            await asyncio.to_thread(check_journal, Path(journal))
        self._min_timeout = self._timeout(self.cfg.raft_min_timeout, 0.05, CLUSTER_MIN_TIMEOUT)
        max_timeout = self._timeout(self.cfg.raft_max_timeout, 0.1, CLUSTER_MAX_TIMEOUT)
        conf = SyncObjConf(
            appendEntriesUseBatch=False,  # sub-ms commits (reference/dependencies.md)
            journalFile=journal,
            fullDumpFile=str(raft_dir / "snapshot"),
            serializer=self._serialize,
            deserializer=self._deserialize,
            password=self.cfg.password,
            onStateChanged=self._on_state_changed,
            # pysyncobj requires min election timeout > 3 x append period
            appendEntriesPeriod=0.1 if self.cfg.partners else 0.01,
            raftMinTimeout=self._min_timeout,
            raftMaxTimeout=max_timeout,
            # a connection silent this long is dead; pysyncobj wants it >= the max timeout
            connectionTimeout=max(3.5, max_timeout),
            # `operator raft remove-peer`: membership changes are Raft entries (pysyncobj's
            # own MEMBERSHIP command type, never our FSM's); replayed from the journal
            dynamicMembershipChange=True,
            # a leader cut off from its quorum steps down after this long, so writes get
            # "no cluster leader" instead of waiting out pysyncobj's 30 s default
            leaderFallbackTimeout=max(5.0, 2.5 * max_timeout),
            # reconnect to a restarted peer within a second (default 5 s)
            connectionRetryTime=1.0,
            # pysyncobj splits an entry bigger than this into chunks, and its reassembly is
            # broken (the last chunk is judged against the command's length, not the pickled
            # entry's: followers get "pickle data was truncated" and never catch up). A plan
            # result of 1,000 allocations is ~1.5 MB, so never split: send entries whole.
            appendEntriesBatchSizeBytes=MAX_ENTRY_BYTES,
        )
        # SyncObj binds its port and may replay a journal: keep it off the event loop.
        try:
            self._obj = await asyncio.to_thread(_Replicated, self.cfg, conf, self.fsm)
        except (struct.error, ValueError, EOFError, IndexError, pickle.UnpicklingError) as exc:
            if journal is None:
                raise
            raise ConfigError(
                f"{journal}: the Raft journal is corrupt or truncated ({exc}); refusing to "
                "start rather than drop committed state. Restore the data dir from a backup, "
                "or remove it to rejoin the cluster as an empty server"
            ) from None
        self._obj.addOnTickCallback(self._on_tick)

    def _timeout(self, configured: float | None, alone: float, cluster: float) -> float:
        if configured is not None:
            return configured
        return cluster * self.cfg.raft_multiplier if self.cfg.partners else alone

    async def shutdown(self) -> None:
        obj, self._obj = self._obj, None
        if obj is not None:
            await asyncio.to_thread(obj.destroy_synchronous)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    # -- leadership ---------------------------------------------------------------------

    def add_leadership_listener(self, fn: LeadershipListener) -> None:
        """``fn(is_leader)`` runs on the event loop whenever this server gains or loses it."""
        self._listeners.append(fn)

    def is_leader(self) -> bool:
        return self._obj is not None and bool(self._obj._isLeader())

    def leader(self) -> str:
        """Raft address of the current leader, "" when unknown."""
        if self._obj is None:
            return ""
        node = self._obj._getLeader()
        return "" if node is None else str(getattr(node, "address", node))

    def peers(self) -> list[str]:
        """Raft addresses of the current configuration (after any remove-peer), self included."""
        if self._obj is None:
            return sorted([self.cfg.self_addr, *self.cfg.partners])
        for _ in range(5):  # the Raft thread may change the set while we copy it
            try:
                others = [str(getattr(n, "address", n)) for n in self._obj.otherNodes]
                break
            except RuntimeError:
                continue
        else:
            others = list(self.cfg.partners)
        return sorted([self.cfg.self_addr, *others])

    async def remove_peer(self, addr: str, timeout: float = DEFAULT_APPLY_TIMEOUT) -> None:
        """Remove ``addr`` (a Raft address) from the configuration; leader only.

        Committed like any entry, by a quorum of the configuration *before* the change, so a
        dead server can be removed while the remaining ones still form that quorum.
        """
        obj = self._obj
        if obj is None or not obj._isLeader():
            raise NoLeaderError()
        if addr == self.cfg.self_addr:
            raise ValidationError(
                f"{addr} is the current leader; stop it and let another server take over, "
                "then remove it from there"
            )
        if addr not in self.peers():
            raise NotFoundError(
                f"{addr} is not a Raft peer; `operator raft list-peers` shows the peers"
            )
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[ApplyResult] = loop.create_future()

        def done(result: Any, err: int) -> None:
            loop.call_soon_threadsafe(_settle_membership, fut, err)

        obj.removeNodeFromCluster(addr, callback=done)
        try:
            async with asyncio.timeout(timeout):
                await fut
        except TimeoutError:
            raise RaftError(
                f"removing {addr} was not confirmed within {timeout:g}s; check "
                "`operator raft list-peers` and retry"
            ) from None

    def connected(self, addr: str) -> bool:
        """Whether this server has a live Raft connection to peer ``addr`` (self: True)."""
        if addr == self.cfg.self_addr:
            return self._obj is not None
        if self._obj is None:
            return False
        status = self._obj.getStatus()
        return bool(status.get(f"partner_node_status_server_{addr}") == 2)

    def has_quorum(self) -> bool:
        return self._obj is not None and bool(self._obj.hasQuorum)

    def state_name(self) -> str:
        """``leader``, ``follower`` or ``candidate`` (``shutdown`` when stopped)."""
        if self._obj is None:
            return "shutdown"
        return _STATE_NAMES.get(getattr(self._obj, "_SyncObj__raftState", 0), "follower")

    def last_contact(self) -> dict[str, float]:
        """On the leader: seconds since each follower last answered (empty elsewhere)."""
        if self._obj is None or not self.is_leader():
            return {}
        seen = dict(getattr(self._obj, "_SyncObj__lastResponseTime", {}))
        now = time.monotonic()
        return {str(getattr(n, "address", n)): max(now - t, 0.0) for n, t in seen.items()}

    def stats(self) -> dict[str, str]:
        """Nomad's ``raft`` stats of ``/v1/agent/self`` (strings, as Nomad's), plus nomadic's
        diagnostics: ``elections`` this server started, ``max_tick_gap_ms`` (the longest pause
        of pysyncobj's thread), ``max_tick_wait_ms`` (the same without the FSM applies in it:
        time waiting for a CPU or the GIL), ``max_apply_ms`` (the longest FSM apply),
        ``max_compaction_ms`` (the longest log compaction step on that thread),
        ``long_ticks`` (pauses longer than the election timeout) and
        ``stale_acks`` (follower replies whose backward move of nextIndex was undone)."""
        obj = self._obj
        if obj is None:
            return {"state": "Shutdown"}
        st = obj.getStatus()
        return {
            "state": self.state_name().capitalize(),
            "term": str(st["raft_term"]),
            "commit_index": str(st["commit_idx"]),
            "applied_index": str(st["last_applied"]),
            "fsm_index": str(self.fsm.last_index),
            "log_entries": str(st["log_len"]),
            "num_peers": str(st["partner_nodes_count"]),
            "leader": self.leader(),
            "elections": str(self._elections),
            "max_tick_gap_ms": f"{self._max_tick_gap * 1000:.0f}",
            "long_ticks": str(self._long_ticks),
            "max_tick_wait_ms": f"{self._max_tick_wait * 1000:.0f}",
            "max_apply_ms": f"{obj.max_apply * 1000:.0f}",
            "applies_deferred": str(obj.applies_deferred),
            "max_compaction_ms": f"{obj.max_compaction * 1000:.0f}",
            "stale_acks": str(getattr(obj._SyncObj__transport, "stale_acks", 0)),
        }

    def _on_state_changed(self, old: int, new: int) -> None:
        if new == 1:  # candidate: this server started an election
            self._elections += 1
        default_sink.incr_counter(f"nomad.raft.state.{_STATE_NAMES.get(new, 'follower')}")
        if self._loop is not None and (old == _RAFT_LEADER or new == _RAFT_LEADER):
            self._loop.call_soon_threadsafe(self._deliver_leadership)

    def _deliver_leadership(self) -> None:
        leader = self.is_leader()
        if leader == self._was_leader:
            return
        self._was_leader = leader
        for fn in list(self._listeners):
            fn(leader)

    # -- writes -------------------------------------------------------------------------

    async def apply(self, entry: bytes, timeout: float = DEFAULT_APPLY_TIMEOUT) -> ApplyResult:
        """Replicate ``entry`` and return the FSM's result once it is committed and applied."""
        obj = self._obj
        if obj is None or not obj._isLeader():
            raise NoLeaderError()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[ApplyResult] = loop.create_future()

        write_id = next(self._inflight_ids)

        def done(result: Any, err: int) -> None:
            self._forget(write_id)
            loop.call_soon_threadsafe(_settle, fut, result, err)

        with self._inflight_lock:
            self._inflight.add(write_id)
        start = time.monotonic()
        default_sink.incr_counter("nomad.raft.apply")
        obj.apply(entry, callback=done)
        try:
            async with asyncio.timeout(timeout):
                result = await fut
            default_sink.measure_since("nomad.raft.commitTime", start)
            return result
        except TimeoutError:
            raise RaftError(
                f"raft commit not confirmed within {timeout:g}s; the write may or may not "
                "have been applied (retrying it is safe)"
            ) from None
        finally:
            self._forget(write_id)

    def _forget(self, write_id: int) -> None:
        with self._inflight_lock:
            self._inflight.discard(write_id)

    def _on_tick(self) -> None:
        now = time.monotonic()
        applying = self._obj.apply_seconds if self._obj is not None else 0.0
        if self._last_tick:
            gap = now - self._last_tick
            self._max_tick_gap = max(self._max_tick_gap, gap)
            # the part of the pause not spent applying entries: waiting for CPU or the GIL
            self._max_tick_wait = max(self._max_tick_wait, gap - (applying - self._applying))
            if gap > self._min_timeout:
                self._long_ticks += 1
        self._last_tick = now
        self._applying = applying
        if not self.cfg.partners:
            self._kick_single_node()

    def _kick_single_node(self) -> None:
        # A lone leader commits an entry one tick after appending it, and nothing (no follower
        # reply) wakes its poller before the 50 ms tick period: wake it while writes are in
        # flight so a one-node commit takes a millisecond, not 50.
        if self._inflight and self._obj is not None:
            notifier = getattr(self._obj, "_SyncObj__pipeNotifier", None)
            if notifier is not None:
                notifier.notify()

    # -- snapshots ----------------------------------------------------------------------

    def _serialize(self, file_name: str, data: tuple[Any, Any, Any]) -> None:
        last, prev, cluster = data
        snap = _SnapshotFile(
            version=1,
            last_entries=[tuple(last), tuple(prev)],
            cluster=sorted(str(getattr(n, "address", n)) for n in cluster),
            fsm=self.fsm.snapshot(),
        )
        Path(file_name).write_bytes(msgspec.msgpack.encode(snap))

    def _deserialize(self, file_name: str) -> tuple[Any, Any, Any]:
        snap = msgspec.msgpack.decode(Path(file_name).read_bytes(), type=_SnapshotFile)
        self.fsm.restore(snap.fsm)
        last, prev = snap.last_entries
        return tuple(last), tuple(prev), {TCPNode(addr) for addr in snap.cluster}


def _refuse_open_unencrypted(cfg: RaftConfig) -> None:
    # pysyncobj's wire format is pickle: anyone who reaches the port could run code here.
    host = cfg.self_addr.rpartition(":")[0].strip("[]")
    if cfg.password is None and not _is_loopback(host):
        raise ConfigError(
            f"raft would listen on {cfg.self_addr} without encryption; set the server's "
            "encrypt key (server { encrypt = ... }) or bind to 127.0.0.1"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _settle_membership(fut: asyncio.Future[ApplyResult], err: int) -> None:
    if fut.done():
        return
    if err == FAIL_REASON.SUCCESS:
        fut.set_result(ApplyResult(0))
    elif err in (FAIL_REASON.NOT_LEADER, FAIL_REASON.MISSING_LEADER, FAIL_REASON.LEADER_CHANGED):
        fut.set_exception(NoLeaderError())
    elif err == FAIL_REASON.REQUEST_DENIED:
        fut.set_exception(
            RaftError("membership change refused: another change is still being committed; retry")
        )
    else:
        fut.set_exception(RaftError(f"membership change failed (pysyncobj reason {err}); retry"))


def _settle(fut: asyncio.Future[ApplyResult], result: Any, err: int) -> None:
    if fut.done():
        return
    if err == FAIL_REASON.SUCCESS and isinstance(result, ApplyResult):
        fut.set_result(result)
    elif err in (FAIL_REASON.NOT_LEADER, FAIL_REASON.MISSING_LEADER, FAIL_REASON.LEADER_CHANGED):
        fut.set_exception(NoLeaderError())
    else:
        fut.set_exception(RaftError(f"raft write failed (pysyncobj reason {err}); retry it"))
