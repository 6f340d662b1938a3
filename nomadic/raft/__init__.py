"""Raft through one door: the pysyncobj adapter (see :mod:`nomadic.raft.node`)."""

from __future__ import annotations

from .node import RaftConfig, RaftNode

__all__ = ["RaftConfig", "RaftNode"]
