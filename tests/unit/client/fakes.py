"""An in-memory ServerRPC for client tests: it records what the client sends."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from nomadic.errors import NotFoundError
from nomadic.structs import Allocation, AllocUpdate, Job, Node, Task, TaskGroup, canonicalize
from nomadic.structs.consts import SECOND
from nomadic.structs.requests import NodeRegisterResponse, NodeUpdateResponse

T = TypeVar("T")


class FakeServer:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.allocs: dict[str, Allocation] = {}
        self.updates: list[AllocUpdate] = []
        self.heartbeats: list[tuple[str, str]] = []
        self.registrations = 0
        self.index = 1
        self.fail_register = 0
        self.ttl = 10 * SECOND
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.index += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def add_alloc(self, alloc: Allocation) -> None:
        self.allocs[alloc.id] = alloc
        self.bump()

    async def node_register(self, node: Node) -> NodeRegisterResponse:
        if self.fail_register > 0:
            self.fail_register -= 1
            raise ConnectionError("no server")
        self.registrations += 1
        self.nodes[node.id] = node
        self.bump()
        return NodeRegisterResponse(heartbeat_ttl=self.ttl, index=self.index)

    async def node_update_status(self, node_id: str, status: str) -> NodeUpdateResponse:
        if node_id not in self.nodes:
            raise NotFoundError(f"node {node_id} not found")
        self.heartbeats.append((node_id, status))
        return NodeUpdateResponse(heartbeat_ttl=self.ttl, index=self.index)

    async def node_get_client_allocs(
        self, node_id: str, min_index: int, timeout: float
    ) -> tuple[list[Allocation], int]:
        if self.index <= min_index:
            changed = self._changed
            try:
                async with asyncio.timeout(timeout):
                    await changed.wait()
            except TimeoutError:
                pass
        return [a for a in self.allocs.values() if a.node_id == node_id], self.index

    async def node_update_alloc(self, updates: list[AllocUpdate]) -> int:
        for update in updates:
            self.updates.append(update)
            alloc = self.allocs.get(update.id)
            if alloc is not None:
                alloc.client_status = update.client_status
                alloc.task_states = update.task_states
        self.bump()
        return self.index


def make_alloc(
    node_id: str,
    config: dict[str, object],
    *,
    job_type: str = "batch",
    driver: str = "raw_exec",
    task_name: str = "hello",
    **task_fields: object,
) -> Allocation:
    task = Task(name=task_name, driver=driver, config=config, **task_fields)  # type: ignore[arg-type]
    job = canonicalize(
        Job(
            id="example",
            name="example",
            type=job_type,
            task_groups=[TaskGroup(name="g", tasks=[task])],
        )
    )
    return Allocation(
        id=str(uuid.uuid4()),
        name="example.g[0]",
        node_id=node_id,
        job_id=job.id,
        job=job,
        task_group="g",
        alloc_modify_index=1,
    )


async def eventually(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
