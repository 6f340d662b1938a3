"""What endpoints need from the server that hosts them, and small shared constructors."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from nomadic.state.entries import Payload
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Evaluation, Job
from nomadic.structs.consts import EVAL_STATUS_PENDING
from nomadic.structs.ids import new_id

from ..heartbeat import Heartbeater

__all__ = ["Host", "new_eval", "now_ns"]


class Host(Protocol):
    heartbeater: Heartbeater

    def snapshot(self) -> Snapshot: ...

    async def apply(self, payload: Payload) -> int:
        """Commit ``payload`` through Raft (leader only); returns its index."""
        ...

    async def wait_for_index(self, min_index: int, timeout: float) -> int: ...

    def node_alloc_event(self, node_id: str) -> asyncio.Event:
        """Set the next time an allocation on the node changes."""
        ...

    def is_leader(self) -> bool: ...


def now_ns() -> int:
    return time.time_ns()


def new_eval(
    job: Job, triggered_by: str, *, node_id: str = "", node_modify_index: int = 0
) -> Evaluation:
    """A pending evaluation for ``job``; the leader stamps its ID and times here."""
    now = now_ns()
    return Evaluation(
        id=new_id(),
        namespace=job.namespace,
        priority=job.priority,
        type=job.type,
        triggered_by=triggered_by,
        job_id=job.id,
        node_id=node_id,
        node_modify_index=node_modify_index,
        status=EVAL_STATUS_PENDING,
        create_time=now,
        modify_time=now,
    )
