"""The EvalBroker: the leader's in-memory queue of evaluations for scheduler workers.

Nomad's semantics (``nomad/eval_broker.go``), at-least-once delivery:

- one ready heap per scheduler type; higher priority first, then FIFO by CreateIndex;
- at most one evaluation per job is ready or unacked; others wait in the job's pending heap.
  On Ack the best pending one (highest priority, then newest) becomes ready and the rest
  become *cancelable* (the leader marks them canceled: a storm of evals collapses to one);
- ``dequeue`` hands out (eval, token); a Nack timer (60 s) Nacks automatically, paused while
  the eval's plan waits in the plan queue;
- a Nack re-enqueues after 0 s, 1 s, then (n-1) x 20 s; after ``delivery_limit`` (3) dequeues
  the eval goes to the ``_failed`` queue, which the leader drains to mark it failed;
- evals with ``WaitUntil`` are held until then.

The broker lives on the event loop only; it is never touched from another thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field

from nomadic.errors import NotFoundError
from nomadic.structs import Evaluation
from nomadic.structs.consts import SECOND
from nomadic.structs.ids import new_id
from nomadic.telemetry import default_sink

__all__ = ["FAILED_QUEUE", "BrokerConfig", "EvalBroker"]

FAILED_QUEUE = "_failed"
JobKey = tuple[str, str]


@dataclass(frozen=True)
class BrokerConfig:
    nack_timeout: float = 60.0  # EvalNackTimeout
    delivery_limit: int = 3  # EvalDeliveryLimit
    initial_reenqueue_delay: float = 1.0  # EvalNackInitialReenqueueDelay
    subsequent_reenqueue_delay: float = 20.0  # EvalNackSubsequentReenqueueDelay


@dataclass
class _Unack:
    eval: Evaluation
    token: str
    timer: asyncio.TimerHandle | None
    dequeued: float = field(default_factory=time.monotonic)


@dataclass(order=True)
class _Ready:
    sort_key: tuple[int, int, int]
    eval: Evaluation = field(compare=False)
    enqueued: float = field(default_factory=time.monotonic, compare=False)


def _eval_labels(ev: Evaluation) -> dict[str, str]:
    return {
        "job": ev.job_id,
        "namespace": ev.namespace,
        "eval_type": ev.type,
        "triggered_by": ev.triggered_by,
    }


class EvalBroker:
    def __init__(self, config: BrokerConfig | None = None) -> None:
        self.config = config or BrokerConfig()
        self._enabled = False
        self._seq = itertools.count()
        self._reset()

    def _reset(self) -> None:
        self._ready: dict[str, list[_Ready]] = {}
        self._unack: dict[str, _Unack] = {}
        self._job_evals: dict[JobKey, str] = {}  # the one ready/unacked eval per job
        self._pending: dict[JobKey, list[Evaluation]] = {}
        self._cancelable: list[Evaluation] = []
        self._dequeues: dict[str, int] = {}  # eval ID -> times dequeued
        self._delayed: dict[str, asyncio.TimerHandle] = {}
        self._requeue: dict[str, Evaluation] = {}  # re-enqueue once the outstanding one is acked
        self._changed = asyncio.Event()

    # -- enable / disable (leadership) --------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Enabled on the leader; disabling drops everything (the new leader refills)."""
        if self._enabled and not enabled:
            for un in self._unack.values():
                if un.timer:
                    un.timer.cancel()
            for timer in self._delayed.values():
                timer.cancel()
            self._wake()
            self._reset()
        self._enabled = enabled

    # -- enqueue ------------------------------------------------------------------------

    def enqueue(self, ev: Evaluation) -> None:
        if not self._enabled:
            return
        if ev.id in self._unack:
            # A worker still holds this eval (e.g. it re-blocked it): redeliver after its Ack.
            self._requeue[ev.id] = ev
            return
        if self._tracked(ev.id):
            return
        if ev.wait_until > time.time_ns():
            delay = (ev.wait_until - time.time_ns()) / SECOND
            self._delayed[ev.id] = self._loop().call_later(delay, self._enqueue_delayed, ev)
            return
        self._process_enqueue(ev)

    def _enqueue_delayed(self, ev: Evaluation) -> None:
        self._delayed.pop(ev.id, None)
        self._process_enqueue(ev)

    def _process_enqueue(self, ev: Evaluation, queue: str = "") -> None:
        self._dequeues.setdefault(ev.id, 0)
        key = (ev.namespace, ev.job_id)
        if not queue and ev.job_id:
            current = self._job_evals.get(key)
            if current is not None and current != ev.id:
                self._pending.setdefault(key, []).append(ev)
                return
            self._job_evals[key] = ev.id
        entry = _Ready((-ev.priority, ev.create_index, next(self._seq)), ev)
        heapq.heappush(self._ready.setdefault(queue or ev.type, []), entry)
        self._wake()

    def _tracked(self, eval_id: str) -> bool:
        return eval_id in self._dequeues or eval_id in self._delayed

    # -- dequeue ------------------------------------------------------------------------

    async def dequeue(self, schedulers: list[str], timeout: float) -> tuple[Evaluation, str] | None:
        """The best ready eval of the given types and its token, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            if self._enabled:
                got = self._pick(schedulers)
                if got is not None:
                    return got
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            changed = self._changed
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                return None

    def _pick(self, schedulers: list[str]) -> tuple[Evaluation, str] | None:
        best: str | None = None
        for sched in schedulers:
            heap = self._ready.get(sched)
            if heap and (best is None or heap[0] < self._ready[best][0]):
                best = sched
        if best is None:
            return None
        ready = heapq.heappop(self._ready[best])
        ev = ready.eval
        default_sink.measure_since("nomad.nomad.broker.wait_time", ready.enqueued, _eval_labels(ev))
        token = new_id()
        timer = self._loop().call_later(self.config.nack_timeout, self._nack_expired, ev.id, token)
        self._unack[ev.id] = _Unack(ev, token, timer)
        self._dequeues[ev.id] = self._dequeues.get(ev.id, 0) + 1
        return ev, token

    # -- ack / nack ---------------------------------------------------------------------

    def outstanding(self, eval_id: str) -> str | None:
        un = self._unack.get(eval_id)
        return un.token if un else None

    def ack(self, eval_id: str, token: str) -> None:
        """The eval was processed; promote the job's best pending eval."""
        un = self._take_unack(eval_id, token)
        labels = _eval_labels(un.eval)
        default_sink.measure_since("nomad.nomad.broker.process_time", un.dequeued, labels)
        default_sink.measure_since("nomad.nomad.broker.response_time", un.dequeued, labels)
        self._dequeues.pop(eval_id, None)
        requeue = self._requeue.pop(eval_id, None)
        key = (un.eval.namespace, un.eval.job_id)
        if self._job_evals.get(key) == eval_id:
            del self._job_evals[key]
        pending = self._pending.pop(key, [])
        if pending:
            # Highest priority, then the newest: the others are superseded.
            pending.sort(key=lambda e: (e.priority, e.modify_index, e.create_index), reverse=True)
            best, rest = pending[0], pending[1:]
            self._cancelable.extend(rest)
            for ev in rest:
                self._dequeues.pop(ev.id, None)
            self._process_enqueue(best)
        if requeue is not None:
            self._process_enqueue(requeue)

    def nack(self, eval_id: str, token: str) -> None:
        """The eval was not processed; redeliver it later, or fail it past the limit."""
        un = self._take_unack(eval_id, token)
        default_sink.measure_since(
            "nomad.nomad.broker.response_time", un.dequeued, _eval_labels(un.eval)
        )
        self._requeue.pop(eval_id, None)
        count = self._dequeues.get(eval_id, 0)
        if count >= self.config.delivery_limit:
            self._process_enqueue(un.eval, queue=FAILED_QUEUE)
            return
        delay = self.reenqueue_delay(count)
        if delay <= 0:
            self._requeue_now(un.eval)
        else:
            self._delayed[eval_id] = self._loop().call_later(delay, self._requeue_now, un.eval)

    def _requeue_now(self, ev: Evaluation) -> None:
        self._delayed.pop(ev.id, None)
        entry = _Ready((-ev.priority, ev.create_index, next(self._seq)), ev)
        heapq.heappush(self._ready.setdefault(ev.type, []), entry)
        self._wake()

    def reenqueue_delay(self, prev_dequeues: int) -> float:
        if prev_dequeues <= 0:
            return 0.0
        if prev_dequeues == 1:
            return self.config.initial_reenqueue_delay
        return (prev_dequeues - 1) * self.config.subsequent_reenqueue_delay

    def pause_nack_timeout(self, eval_id: str, token: str) -> None:
        un = self._unack.get(eval_id)
        if un and un.token == token and un.timer:
            un.timer.cancel()
            un.timer = None

    def resume_nack_timeout(self, eval_id: str, token: str) -> None:
        un = self._unack.get(eval_id)
        if un and un.token == token and un.timer is None:
            un.timer = self._loop().call_later(
                self.config.nack_timeout, self._nack_expired, eval_id, token
            )

    def take_cancelable(self) -> list[Evaluation]:
        """Superseded pending evals the leader should mark canceled."""
        out, self._cancelable = self._cancelable, []
        return out

    def scheduler_stats(self) -> dict[str, tuple[int, int]]:
        """(ready, unacked) per scheduler type (Nomad's ``broker.<type>_ready`` gauges)."""
        out = {q: (len(h), 0) for q, h in self._ready.items() if q != FAILED_QUEUE}
        for un in self._unack.values():
            ready, unacked = out.get(un.eval.type, (0, 0))
            out[un.eval.type] = (ready, unacked + 1)
        return out

    def stats(self) -> dict[str, int]:
        return {
            "TotalReady": sum(len(h) for q, h in self._ready.items() if q != FAILED_QUEUE),
            "TotalUnacked": len(self._unack),
            "TotalPending": sum(len(p) for p in self._pending.values()),
            "TotalWaiting": len(self._delayed),
            "TotalFailedQueue": len(self._ready.get(FAILED_QUEUE, [])),
        }

    def _nack_expired(self, eval_id: str, token: str) -> None:
        un = self._unack.get(eval_id)
        if un is not None and un.token == token:
            un.timer = None
            self.nack(eval_id, token)

    def _take_unack(self, eval_id: str, token: str) -> _Unack:
        un = self._unack.get(eval_id)
        if un is None:
            raise NotFoundError(f"evaluation {eval_id} is not outstanding in the eval broker")
        if un.token != token:
            raise NotFoundError(f"evaluation {eval_id}: token does not match the outstanding one")
        del self._unack[eval_id]
        if un.timer:
            un.timer.cancel()
        return un

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()
