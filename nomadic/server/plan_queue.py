"""The PlanQueue: plans waiting for the leader's single plan applier.

A heap ordered by plan priority (the job's), then FIFO. Each entry carries the future its
submitter awaits. Disabling the queue (lost leadership) fails every waiting plan with
``NoLeaderError`` so workers retry against the new leader.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass, field

from nomadic.errors import NoLeaderError
from nomadic.structs import Plan, PlanResult

__all__ = ["PendingPlan", "PlanQueue"]


@dataclass(order=True)
class PendingPlan:
    sort_key: tuple[int, int]
    plan: Plan = field(compare=False)
    future: asyncio.Future[PlanResult] = field(compare=False)

    def respond(self, result: PlanResult | None, error: BaseException | None = None) -> None:
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            assert result is not None
            self.future.set_result(result)


class PlanQueue:
    def __init__(self) -> None:
        self._heap: list[PendingPlan] = []
        self._seq = itertools.count()
        self._enabled = False
        self._changed = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled:
            for pending in self._heap:
                pending.respond(None, NoLeaderError())
            self._heap.clear()
            self._wake()

    def enqueue(self, plan: Plan) -> asyncio.Future[PlanResult]:
        if not self._enabled:
            raise NoLeaderError()
        fut: asyncio.Future[PlanResult] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, PendingPlan((-plan.priority, next(self._seq)), plan, fut))
        self._wake()
        return fut

    async def dequeue(self) -> PendingPlan:
        """Wait for the next plan (raises ``NoLeaderError`` if the queue is disabled)."""
        while True:
            if not self._enabled:
                raise NoLeaderError()
            if self._heap:
                return heapq.heappop(self._heap)
            await self._changed.wait()

    def __len__(self) -> int:
        return len(self._heap)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
