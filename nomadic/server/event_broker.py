"""The event stream's buffer: the last ``EVENT_BUFFER_SIZE`` Raft indexes' events, in order.

The FSM (on pysyncobj's thread) hands each applied entry to :meth:`EventBroker.on_apply`, which
looks up the stored objects its events are about (``nomadic.state.events.capture``) and
appends them under a lock; subscribers on the event loop, if there are any, are woken with
``call_soon_threadsafe``. The :class:`Event` objects are built, and JSON-encoded, only when a
subscriber reads a batch (once per batch), so a server nobody streams from pays a few lookups
per entry and never touches the event loop.

``subscribe(index)`` replays from the first buffered batch with ``Index >= index`` (or the
oldest one still buffered, as Nomad's ``StartAtClosest``), then follows new ones.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nomadic.state import entries as e
from nomadic.state.events import EntryObjects, Event, capture
from nomadic.state.interfaces import StateSnapshot

__all__ = ["EVENT_BUFFER_SIZE", "EventBatch", "EventBroker", "TopicFilter", "encode_batch"]

EVENT_BUFFER_SIZE = 1024  # Raft indexes with events kept for ``index=`` replay


class EventBatch:
    """One Raft index's events, built from its :class:`EntryObjects` when first read."""

    __slots__ = ("_encoded", "_events", "_objects", "index")

    def __init__(
        self, index: int, events: list[Event] | None = None, objects: EntryObjects | None = None
    ) -> None:
        self.index = index
        self._events = events
        self._objects = objects
        self._encoded: list[dict[str, object]] | None = None

    @property
    def events(self) -> list[Event]:
        if self._events is None:
            self._events = self._objects.events() if self._objects is not None else []
            self._objects = None
        return self._events

    def encoded(self) -> list[dict[str, object]]:
        if self._encoded is None:
            self._encoded = [ev.to_json() for ev in self.events]
        return self._encoded


@dataclass(frozen=True)
class TopicFilter:
    """``topic=Job:web`` / ``topic=Allocation:*`` / ``topic=*`` and the namespace (``*``: all)."""

    topics: dict[str, frozenset[str]]
    namespace: str = "default"

    def wants(self, ev: Event) -> bool:
        keys = self.topics.get(ev.topic) or self.topics.get("*")
        if keys is None:
            return False
        if ev.namespace and self.namespace != "*" and ev.namespace != self.namespace:
            return False
        return "*" in keys or any(ev.matches_key(k) for k in keys)


class EventBroker:
    def __init__(self, size: int = EVENT_BUFFER_SIZE) -> None:
        self._lock = threading.Lock()
        self._buffer: deque[EventBatch] = deque(maxlen=size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self._closed = False
        self._subscribers = 0  # nobody to wake: applying an entry stays off the event loop

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def on_apply(
        self,
        index: int,
        mtype: e.MessageType,
        payload: object,
        before: StateSnapshot,
        after: StateSnapshot,
    ) -> None:
        if mtype == e.MessageType.SNAPSHOT_RESTORE:
            with self._lock:  # the old events describe a state that no longer exists
                self._buffer.clear()
            return
        objects = capture(index, mtype, payload, before, after)
        if objects is None:
            return
        with self._lock:
            self._buffer.append(EventBatch(index, objects=objects))
        loop = self._loop
        if self._subscribers and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def close(self) -> None:
        """End every subscription (the agent is stopping); call on the event loop."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def after(self, index: int) -> list[EventBatch]:
        """Buffered batches with ``Index >= index`` (all of them if ``index`` is older)."""
        with self._lock:
            return [b for b in self._buffer if b.index >= index]

    def latest_index(self) -> int:
        with self._lock:
            return self._buffer[-1].index if self._buffer else 0

    async def subscribe(self, index: int, heartbeat: float) -> AsyncIterator[EventBatch | None]:
        """Batches from ``index`` on until :meth:`close`; ``None`` after ``heartbeat`` seconds
        of quiet."""
        cursor = index
        self._subscribers += 1  # before the first read: a later append wakes this loop
        try:
            while not self._closed:
                changed = self._changed
                batches = self.after(cursor)
                if batches:
                    for batch in batches:
                        yield batch
                    cursor = batches[-1].index + 1
                    continue
                try:
                    async with asyncio.timeout(heartbeat):
                        await changed.wait()
                except TimeoutError:
                    yield None
        finally:
            self._subscribers -= 1


def encode_batch(batch: EventBatch, flt: TopicFilter) -> bytes | None:
    """One NDJSON line with the batch's events this subscriber wants, or None."""
    wanted = [j for ev, j in zip(batch.events, batch.encoded(), strict=True) if flt.wants(ev)]
    if not wanted:
        return None
    return json.dumps({"Index": batch.index, "Events": wanted}).encode() + b"\n"
