"""Local client state (sqlite): allocations and task handles, so a restarted client re-attaches
to running tasks instead of starting them again (Nomad keeps the same in its client BoltDB).

Values are msgpack of our structs. Writes are small and happen on task state changes; WAL
mode with ``synchronous=NORMAL`` keeps them cheap enough to run on the event loop.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nomadic.plugin import TaskHandle
from nomadic.structs import Allocation, TaskState, from_msgpack, to_msgpack

__all__ = ["ClientStateDB", "SavedAlloc", "SavedTask"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS allocs (id TEXT PRIMARY KEY, alloc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    alloc_id TEXT NOT NULL, task TEXT NOT NULL, state BLOB NOT NULL, handle BLOB,
    PRIMARY KEY (alloc_id, task)
);
"""


@dataclass
class SavedTask:
    state: TaskState
    handle: TaskHandle | None


@dataclass
class SavedAlloc:
    alloc: Allocation
    tasks: dict[str, SavedTask] = field(default_factory=dict)


class ClientStateDB:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def put_alloc(self, alloc: Allocation) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO allocs (id, alloc) VALUES (?, ?)",
                (alloc.id, to_msgpack(alloc)),
            )

    def put_task(
        self, alloc_id: str, task: str, state: TaskState, handle: TaskHandle | None
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tasks (alloc_id, task, state, handle) VALUES (?, ?, ?, ?)",
                (alloc_id, task, to_msgpack(state), to_msgpack(handle) if handle else None),
            )

    def delete_alloc(self, alloc_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM allocs WHERE id = ?", (alloc_id,))
            self._db.execute("DELETE FROM tasks WHERE alloc_id = ?", (alloc_id,))

    def load(self) -> list[SavedAlloc]:
        with self._lock:
            allocs = self._db.execute("SELECT alloc FROM allocs").fetchall()
            tasks = self._db.execute("SELECT alloc_id, task, state, handle FROM tasks").fetchall()
        saved = {a.id: SavedAlloc(a) for a in (from_msgpack(row[0], Allocation) for row in allocs)}
        for alloc_id, task, state, handle in tasks:
            if alloc_id in saved:
                saved[alloc_id].tasks[task] = SavedTask(
                    from_msgpack(state, TaskState),
                    from_msgpack(handle, TaskHandle) if handle else None,
                )
        return list(saved.values())

    def close(self) -> None:
        with self._lock:
            self._db.close()
