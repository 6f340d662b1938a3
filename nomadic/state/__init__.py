"""Server state: the StateStore (tables + indexes, O(1) snapshots) and the FSM Raft drives."""

from __future__ import annotations

from .fsm import FSM, ApplyResult, MessageType
from .snapshot import Snapshot
from .store import StateStore

__all__ = ["FSM", "ApplyResult", "MessageType", "Snapshot", "StateStore"]
