"""Helpers every process-running driver needs: the table of its tasks and Nomad's
``DestroyTask`` contract. Drivers call them from the client's worker threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from nomadic.errors import DriverError

__all__ = ["TaskTable", "destroy_guard"]

T = TypeVar("T")


class TaskTable(Generic[T]):
    """A driver's tasks by task ID, behind a lock."""

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self._lock = threading.Lock()
        self._tasks: dict[str, T] = {}

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            return task_id in self._tasks

    def check_new(self, task_id: str) -> None:
        if task_id in self:
            raise DriverError(f"task {task_id} is already started")

    def add(self, task_id: str, task: T) -> None:
        with self._lock:
            self._tasks[task_id] = task

    def find(self, task_id: str) -> T | None:
        with self._lock:
            return self._tasks.get(task_id)

    def get(self, task_id: str) -> T:
        task = self.find(task_id)
        if task is None:
            raise DriverError(f"{self.driver}: no task with ID {task_id!r}")
        return task

    def remove(self, task_id: str) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def values(self) -> list[T]:
        with self._lock:
            return list(self._tasks.values())


def destroy_guard(task_id: str, running: bool, force: bool, kill: Callable[[], None]) -> None:
    """A running task is destroyed only with ``force``, and then killed first."""
    if running:
        if not force:
            raise DriverError(f"task {task_id} is still running; stop it or destroy with force")
        kill()
