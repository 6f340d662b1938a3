"""RunnerContext: what alloc and task runners share from their client (config, drivers, pools).

Driver calls are synchronous and may block, so they run in thread pools: ``ops`` for short
calls (start, stop, destroy, stats) and ``waits`` for the long ``wait_task`` polls, so a
hundred running tasks never starve a start.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from nomadic.plugin import TaskDriver
from nomadic.structs import AllocUpdate, Node

from .config import ClientConfig
from .state import ClientStateDB

__all__ = ["RunnerContext", "now_ns"]

P = ParamSpec("P")
T = TypeVar("T")


def now_ns() -> int:
    return time.time_ns()


@dataclass
class RunnerContext:
    config: ClientConfig
    node: Callable[[], Node]
    drivers: dict[str, TaskDriver]
    driver_errors: dict[str, str]
    report: Callable[[AllocUpdate], None]
    host_env: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    db: ClientStateDB | None = None
    ops: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="driver-op")
    )
    waits: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(256, thread_name_prefix="driver-wait")
    )

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.ops, lambda: fn(*args, **kwargs))

    async def wait(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.waits, lambda: fn(*args, **kwargs))

    def shutdown(self) -> None:
        self.ops.shutdown(wait=False, cancel_futures=True)
        self.waits.shutdown(wait=False, cancel_futures=True)
