"""Blocked evaluations: evals that could not place everything, parked until capacity changes.

Nomad's ``nomad/blocked_evals.go``. A blocked eval records, per computed node class, whether
the job's constraints could ever fit that class (``ClassEligibility``), and whether it
"escaped" class caching (constraints on ``unique.*`` targets, which a class cannot capture).
When capacity appears on a node (it registers or becomes ready, or an allocation on it
becomes terminal), the leader calls :meth:`BlockedEvals.unblock` with the node's class:

- escaped evals are unblocked by capacity on any node;
- the others only when the class is eligible for them, or unknown to them (a class created
  after they were scheduled may fit); a class they found ineligible leaves them blocked.

Only one blocked eval is kept per job; an older duplicate is handed back for the leader to
cancel. An eval blocked on a snapshot older than the last capacity change on a class that
could help it is unblocked at once, so a change that happened while it was being scheduled
is not missed.

Lives on the event loop of the leader only.
"""

from __future__ import annotations

from collections.abc import Iterable

from nomadic.structs import Evaluation

from .broker import EvalBroker

__all__ = ["BlockedEvals"]

JobKey = tuple[str, str]


def _helps(ev: Evaluation, computed_class: str) -> bool:
    """Whether capacity on a node of ``computed_class`` could let ``ev`` place more."""
    if ev.escaped_computed_class or not computed_class:
        return True
    return ev.class_eligibility.get(computed_class, True)


class BlockedEvals:
    def __init__(self, broker: EvalBroker) -> None:
        self._broker = broker
        self._enabled = False
        self._by_job: dict[JobKey, Evaluation] = {}
        self._duplicates: list[Evaluation] = []
        self._unblock_indexes: dict[str, int] = {}  # computed class -> last capacity change

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        if not enabled:
            self._by_job.clear()
            self._duplicates.clear()
            self._unblock_indexes.clear()
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
        if self._missed_unblock(ev):
            # Capacity changed after the scheduler's snapshot: retry right away.
            self._by_job.pop(key, None)
            self._broker.enqueue(ev)
            return
        self._by_job[key] = ev

    def _missed_unblock(self, ev: Evaluation) -> bool:
        if not ev.snapshot_index:
            return False
        return any(
            index > ev.snapshot_index and _helps(ev, cls)
            for cls, index in self._unblock_indexes.items()
        )

    def untrack(self, namespace: str, job_id: str, keep_eval_id: str = "") -> None:
        """Forget the job's blocked eval (a newer eval for the job completed)."""
        key = (namespace, job_id)
        existing = self._by_job.get(key)
        if existing is not None and existing.id != keep_eval_id:
            del self._by_job[key]

    def unblock(self, index: int, classes: Iterable[str] = ("",)) -> int:
        """Capacity changed at ``index`` on nodes of ``classes`` ("" = unknown class): move
        every blocked eval that such a node could help to the broker."""
        if not self._enabled:
            return 0
        classes = set(classes) or {""}
        for cls in classes:
            self._unblock_indexes[cls] = max(self._unblock_indexes.get(cls, 0), index)
        ready = [key for key, ev in self._by_job.items() if any(_helps(ev, cls) for cls in classes)]
        for key in ready:
            self._broker.enqueue(self._by_job.pop(key))
        return len(ready)

    def take_duplicates(self) -> list[Evaluation]:
        out, self._duplicates = self._duplicates, []
        return out

    def blocked(self) -> list[Evaluation]:
        return list(self._by_job.values())

    def stats(self) -> dict[str, int]:
        escaped = sum(1 for ev in self._by_job.values() if ev.escaped_computed_class)
        return {"TotalBlocked": len(self._by_job), "TotalEscaped": escaped}
