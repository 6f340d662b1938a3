"""Evaluation triggers the generic scheduler accepts (Nomad's ``EvalTrigger*`` names)."""

from __future__ import annotations

from typing import Final

__all__ = ["GENERIC_TRIGGERS"]

GENERIC_TRIGGERS: Final = frozenset(
    {
        "job-register",
        "job-deregister",
        "node-drain",
        "node-update",
        "alloc-stop",
        "rolling-update",
        "queued-allocs",
        "periodic-job",
        "max-plan-attempts",
        "deployment-watcher",
        "alloc-failure",
        "failed-follow-up",
        "preemption",
        "job-scaling",
        "max-disconnect-timeout",
        "reconnect",
        "alloc-reschedule",
        "scheduled",
    }
)
