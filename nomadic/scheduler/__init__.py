"""The pure scheduler: turns an evaluation and a state snapshot into a plan.

``new_scheduler(eval.type, state, planner).process(eval)`` is the whole interface the server's
worker needs. Built-in schedulers register in :data:`BUILTIN_SCHEDULERS` by eval type:
``generic.py`` for service and batch, ``system.py`` for system and sysbatch. This package
imports only ``nomadic.structs`` and its own modules: no I/O, no server, no clock except
where Nomad stamps one (allocation timing, reschedule times, blocked-eval create time).
"""

from __future__ import annotations

from collections.abc import Callable

from nomadic.errors import NomadicError
from nomadic.structs.consts import (
    JOB_TYPE_BATCH,
    JOB_TYPE_SERVICE,
    JOB_TYPE_SYSBATCH,
    JOB_TYPE_SYSTEM,
)

from .generic import GenericScheduler
from .interfaces import Planner, Scheduler, State
from .system import SystemScheduler

__all__ = [
    "BUILTIN_SCHEDULERS",
    "GenericScheduler",
    "Planner",
    "Scheduler",
    "SchedulerFactory",
    "State",
    "SystemScheduler",
    "UnknownSchedulerError",
    "new_scheduler",
    "register_scheduler",
]

SchedulerFactory = Callable[[State, Planner], Scheduler]


class UnknownSchedulerError(NomadicError, ValueError):
    """An evaluation whose type names no scheduler."""


def _service(state: State, planner: Planner) -> Scheduler:
    return GenericScheduler(state, planner, batch=False)


def _batch(state: State, planner: Planner) -> Scheduler:
    return GenericScheduler(state, planner, batch=True)


def _system(state: State, planner: Planner) -> Scheduler:
    return SystemScheduler(state, planner, sysbatch=False)


def _sysbatch(state: State, planner: Planner) -> Scheduler:
    return SystemScheduler(state, planner, sysbatch=True)


BUILTIN_SCHEDULERS: dict[str, SchedulerFactory] = {
    JOB_TYPE_SERVICE: _service,
    JOB_TYPE_BATCH: _batch,
    JOB_TYPE_SYSTEM: _system,
    JOB_TYPE_SYSBATCH: _sysbatch,
}


def register_scheduler(eval_type: str, factory: SchedulerFactory) -> None:
    """Add a scheduler for ``eval_type`` (how system and sysbatch join); duplicates are an error."""
    if eval_type in BUILTIN_SCHEDULERS:
        raise ValueError(f"a scheduler for {eval_type!r} evaluations is already registered")
    BUILTIN_SCHEDULERS[eval_type] = factory


def new_scheduler(eval_type: str, state: State, planner: Planner) -> Scheduler:
    """The scheduler for evaluations of ``eval_type`` ("service", "batch", ...)."""
    factory = BUILTIN_SCHEDULERS.get(eval_type)
    if factory is None:
        known = ", ".join(sorted(BUILTIN_SCHEDULERS))
        raise UnknownSchedulerError(
            f"no scheduler for evaluation type {eval_type!r}; known types: {known}"
        )
    return factory(state, planner)
