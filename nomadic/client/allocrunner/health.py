"""AllocHealthTracker: whether an allocation of a deployment is healthy (the client's half of
Nomad's ``allochealth`` tracker), pure: task states and times in, a verdict out.

With ``health_check = "task_states"`` (and ``"checks"``: nomadic runs no service checks, so
as in Nomad for a group without checks, task states decide):

    every main task running for min_healthy_time     -> healthy
    a task failed, or healthy_deadline passed first  -> unhealthy

A task that stops running (a restart) starts the min_healthy_time wait again. The verdict is
given once; ``health_check = "manual"`` is left to ``deployment allocation-health`` calls.
"""

from __future__ import annotations

from typing import Final

from nomadic.structs import Allocation, TaskGroup, TaskState
from nomadic.structs.consts import TASK_STATE_DEAD, TASK_STATE_RUNNING

__all__ = ["HEALTH_MANUAL", "AllocHealthTracker"]

HEALTH_MANUAL: Final = "manual"
_NS = 1_000_000_000


class AllocHealthTracker:
    def __init__(self, group: TaskGroup, start: int, min_healthy: int, deadline: int) -> None:
        self.group = group
        self.min_healthy = min_healthy
        self.deadline = start + deadline if deadline > 0 else 0
        self.healthy_since: int | None = None
        self.failed = False

    @classmethod
    def for_alloc(cls, alloc: Allocation, group: TaskGroup, now: int) -> AllocHealthTracker | None:
        """A tracker when the allocation is part of a deployment and has no verdict yet."""
        strategy = group.update
        if not alloc.deployment_id or strategy is None or strategy.health_check == HEALTH_MANUAL:
            return None
        if alloc.deployment_status is not None and alloc.deployment_status.has_health():
            return None
        return cls(group, now, strategy.min_healthy_time, strategy.healthy_deadline)

    def _watched(self) -> list[str]:
        """Main tasks and sidecars: prestart/poststart tasks that run once, and poststop tasks,
        are not expected to keep running."""
        names = []
        for task in self.group.tasks:
            lc = task.lifecycle
            if lc is None or not lc.hook or lc.sidecar:
                names.append(task.name)
        return names

    def observe(self, states: dict[str, TaskState], now: int) -> None:
        if any(s.failed or (s.state == TASK_STATE_DEAD and s.failed) for s in states.values()):
            self.failed = True
            return
        watched = self._watched()
        running = bool(watched) and all(
            (s := states.get(n)) is not None and s.state == TASK_STATE_RUNNING for n in watched
        )
        if not running:
            self.healthy_since = None
        elif self.healthy_since is None:
            self.healthy_since = now

    def verdict(self, now: int) -> bool | None:
        """True healthy, False unhealthy, None not decided yet."""
        if self.failed:
            return False
        if self.healthy_since is not None and now - self.healthy_since >= self.min_healthy:
            return True
        if self.deadline and now >= self.deadline:
            return False
        return None

    def next_check(self, now: int) -> float | None:
        """Seconds until the verdict may change without a task update; None: only then."""
        times = []
        if self.healthy_since is not None:
            times.append(self.healthy_since + self.min_healthy)
        if self.deadline:
            times.append(self.deadline)
        if not times:
            return None
        return max(min(times) - now, 0) / _NS
