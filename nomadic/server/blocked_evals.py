"""Blocked evaluations: evals that could not place everything, parked until capacity changes.

Nomad's ``nomad/blocked_evals.go``, simplified: every blocked eval is treated as "escaped"
(any capacity change may help it), so a node becoming ready, a node registering or an
allocation becoming terminal unblocks all of them into the broker. Only one blocked eval is
kept per job; an older duplicate is handed back for the leader to cancel. An eval blocked
on a snapshot older than the last capacity change is unblocked at once, so a change that
happened while it was being scheduled is not missed.

Lives on the event loop of the leader only.
"""

from __future__ import annotations

from nomadic.structs import Evaluation

from .broker import EvalBroker

__all__ = ["BlockedEvals"]

JobKey = tuple[str, str]


class BlockedEvals:
    def __init__(self, broker: EvalBroker) -> None:
        self._broker = broker
        self._enabled = False
        self._by_job: dict[JobKey, Evaluation] = {}
        self._duplicates: list[Evaluation] = []
        self._unblock_index = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        if not enabled:
            self._by_job.clear()
            self._duplicates.clear()
            self._unblock_index = 0
        self._enabled = enabled

    def block(self, ev: Evaluation) -> None:
        if not self._enabled:
            return
        key = (ev.namespace, ev.job_id)
        existing = self._by_job.get(key)
        if existing is not None:
            if existing.id == ev.id:
                return
            if existing.create_index > ev.create_index:
                self._duplicates.append(ev)
                return
            self._duplicates.append(existing)
        if ev.snapshot_index and ev.snapshot_index < self._unblock_index:
            # Capacity changed after the scheduler's snapshot: retry right away.
            self._by_job.pop(key, None)
            self._broker.enqueue(ev)
            return
        self._by_job[key] = ev

    def untrack(self, namespace: str, job_id: str, keep_eval_id: str = "") -> None:
        """Forget the job's blocked eval (a newer eval for the job completed)."""
        key = (namespace, job_id)
        existing = self._by_job.get(key)
        if existing is not None and existing.id != keep_eval_id:
            del self._by_job[key]

    def unblock(self, index: int) -> int:
        """Capacity changed at ``index``: move every blocked eval to the broker."""
        if not self._enabled:
            return 0
        self._unblock_index = max(self._unblock_index, index)
        evals = list(self._by_job.values())
        self._by_job.clear()
        for ev in evals:
            self._broker.enqueue(ev)
        return len(evals)

    def take_duplicates(self) -> list[Evaluation]:
        out, self._duplicates = self._duplicates, []
        return out

    def blocked(self) -> list[Evaluation]:
        return list(self._by_job.values())

    def stats(self) -> dict[str, int]:
        return {"TotalBlocked": len(self._by_job), "TotalEscaped": len(self._by_job)}
