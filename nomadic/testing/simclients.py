"""Simulated clients: thousands of nodes against a real server, with no processes.

:class:`SimClients` registers N nodes through the same ``ServerRPC`` seam real clients use
(``Server.local_rpc()`` in-process, or ``nomadic.rpc.GrpcServerRPC`` against a cluster), keeps
them alive with cheap heartbeats (one loop; each node at half the TTL the server gave it), watches
each node's allocations with the blocking ``Node.GetClientAllocs`` a real client uses, and
acknowledges new allocations as ``running`` (every task ``running``), batching the reports of
all simulated nodes into ``Node.UpdateAlloc`` calls (of at most 2,000) every ``ack_interval``
(a real client batches its own every 200 ms). Stops are acknowledged as ``complete``. No
driver is called.

    sim = SimClients(server.local_rpc(), count=5000)
    await sim.start()              # registered and ready
    ...                            # register jobs; sim.acked counts running allocations
    await sim.stop()

Nodes look like a mock node with the ``mock`` driver detected, a ``meta.rack`` (``r0`` ...),
and ``cpu``/``memory_mb`` of your choosing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from nomadic.client.rpc import ServerRPC
from nomadic.structs import (
    Allocation,
    AllocUpdate,
    DriverInfo,
    Node,
    NodeCpuResources,
    NodeDiskResources,
    NodeMemoryResources,
    NodeResources,
    TaskState,
)
from nomadic.structs.consts import NODE_STATUS_READY, SECOND
from nomadic.structs.funcs import compute_node_class

__all__ = ["SimClients", "sim_node"]

log = logging.getLogger(__name__)

WATCH_TIMEOUT = 300.0  # seconds a blocking alloc watch waits (the real client's value)
REGISTER_CONCURRENCY = 64
HEARTBEAT_CONCURRENCY = 256
MAX_UPDATES_PER_CALL = 2000
HEARTBEAT_TICK = 0.5  # seconds between looks for nodes due a heartbeat


def sim_node(
    index: int,
    *,
    datacenter: str = "dc1",
    racks: int = 25,
    cpu: int = 14000,
    memory_mb: int = 32000,
) -> Node:
    """A ready node with the mock driver, ``meta.rack`` = ``r<index % racks>``."""
    node_id = str(uuid.uuid4())
    healthy = DriverInfo(detected=True, healthy=True, health_description="Healthy")
    node = Node(
        id=node_id,
        secret_id=str(uuid.uuid4()),
        name=f"sim-{index}",
        datacenter=datacenter,
        http_addr=f"127.0.0.1:{20000 + index % 40000}",
        status=NODE_STATUS_READY,
        scheduling_eligibility="eligible",
        attributes={
            "kernel.name": "linux",
            "os.name": "ubuntu",
            "arch": "x86_64",
            "cpu.arch": "amd64",
            "driver.mock": "1",
            "unique.hostname": f"sim-{index}",
        },
        node_resources=NodeResources(
            cpu=NodeCpuResources(cpu_shares=cpu, total_cpu_cores=max(cpu // 1000, 1)),
            memory=NodeMemoryResources(memory_mb=memory_mb),
            disk=NodeDiskResources(disk_mb=100 * 1024),
        ),
        drivers={"mock": healthy},
        meta={"rack": f"r{index % racks}"},
    )
    node.computed_class = compute_node_class(node)
    return node


class _SimNode:
    __slots__ = ("acked", "beats", "due", "index", "node", "wanted")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.index = 0
        self.acked: dict[str, str] = {}  # alloc ID -> client status reported
        self.due = 0.0  # monotonic time of this node's next heartbeat (inf: one in flight)
        self.wanted = 0.0  # when the next heartbeat is due (stays while one is in flight)
        self.beats = 0  # heartbeats the server accepted

    def schedule(self, ttl_ns: int, now: float) -> None:
        """Beat again at half the TTL the server just gave this node (its own TTL: the
        server staggers TTLs and scales them with the node count, so they differ a lot)."""
        ttl = ttl_ns / SECOND if ttl_ns else 10.0
        self.due = self.wanted = now + ttl / 2


class SimClients:
    def __init__(
        self,
        rpc: ServerRPC,
        count: int,
        *,
        ack_interval: float = 0.2,
        node_factory: Callable[[int], Node] | None = None,
        on_ack: Callable[[int], Any] | None = None,
    ) -> None:
        self.rpc = rpc
        self.count = count
        self.ack_interval = ack_interval
        self.on_ack = on_ack  # called with the number of allocations just acknowledged
        factory = node_factory or sim_node
        self.nodes = [_SimNode(factory(i)) for i in range(count)]
        self.acked = 0  # allocations reported running so far
        self.slowest_beat = 0.0  # seconds, the slowest heartbeat call
        self.beat_lag = 0.0  # seconds, the longest a due heartbeat waited to be sent
        self._pending: list[AllocUpdate] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        """Register every node (ready, heartbeating from its registration on), then start
        the watches and the ack flusher."""
        sem = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def register(sim: _SimNode) -> None:
            async with sem:
                resp = await self.rpc.node_register(sim.node)
                sim.schedule(resp.heartbeat_ttl, time.monotonic())

        # heartbeats start with the first registration: registering 5,000 nodes takes
        # longer than the first nodes' TTL (10-20 s while the cluster is small)
        for sim in self.nodes:
            sim.due = sim.wanted = float("inf")
        self._tasks = [asyncio.ensure_future(self._heartbeat())]
        try:
            await asyncio.gather(*(register(s) for s in self.nodes))
        except BaseException:
            await self.stop()
            raise
        self._tasks += [asyncio.ensure_future(self._watch(s)) for s in self.nodes]
        self._tasks.append(asyncio.ensure_future(self._flush_loop()))

    async def stop(self) -> None:
        self._stopping = True
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _heartbeat(self) -> None:
        """One loop for all nodes: every ``HEARTBEAT_TICK`` it starts a heartbeat for each
        node whose half-TTL is up and that has none in flight. Each node follows its own TTL
        (one shared period let the first-registered nodes, whose TTLs are the shortest,
        expire), and a slow call delays only its own node (waiting for a whole batch let one
        30 s call hold every other node's heartbeat back)."""
        sem = asyncio.Semaphore(HEARTBEAT_CONCURRENCY)
        inflight: set[asyncio.Task[None]] = set()

        async def beat(sim: _SimNode) -> None:
            async with sem:
                await self._beat(sim)

        try:
            while True:
                now = time.monotonic()
                for sim in self.nodes:
                    if sim.due <= now:
                        sim.due = float("inf")  # in flight; _beat schedules the next one
                        task = asyncio.ensure_future(beat(sim))
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                await asyncio.sleep(HEARTBEAT_TICK)
        finally:
            for task in list(inflight):
                task.cancel()

    async def _beat(self, sim: _SimNode) -> None:
        began = time.monotonic()
        self.beat_lag = max(self.beat_lag, began - sim.wanted)
        try:
            resp = await self.rpc.node_update_status(sim.node.id, NODE_STATUS_READY)
            self.slowest_beat = max(self.slowest_beat, time.monotonic() - began)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("sim heartbeat of %s failed: %s", sim.node.name, exc)
            sim.due = sim.wanted = time.monotonic() + 1.0
            return
        sim.beats += 1
        sim.schedule(resp.heartbeat_ttl, time.monotonic())

    async def _watch(self, sim: _SimNode) -> None:
        while True:
            try:
                allocs, sim.index = await self.rpc.node_get_client_allocs(
                    sim.node.id, sim.index, WATCH_TIMEOUT
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sim watch of %s failed: %s", sim.node.name, exc)
                await asyncio.sleep(1.0)
                continue
            self._reconcile(sim, allocs)

    def _reconcile(self, sim: _SimNode, allocs: list[Allocation]) -> None:
        acked = sim.acked
        for alloc in allocs:
            if alloc.client_terminal():
                continue
            want = "running" if alloc.desired_status == "run" else "complete"
            if acked.get(alloc.id) == want:
                continue
            acked[alloc.id] = want
            tasks = alloc.job.lookup_task_group(alloc.task_group) if alloc.job else None
            names = [t.name for t in tasks.tasks] if tasks is not None else []
            self._pending.append(
                AllocUpdate(
                    id=alloc.id,
                    client_status=want,
                    task_states={n: _task_state(want) for n in names},
                )
            )

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ack_interval)
            await self.flush()

    async def flush(self) -> None:
        """Send every pending report now, at most ``MAX_UPDATES_PER_CALL`` per
        Node.UpdateAlloc (each call is one Raft entry; after a stall, one call carrying every
        pending report was 14,000 allocations and seconds of applying on every server)."""
        while self._pending:
            batch = self._pending[:MAX_UPDATES_PER_CALL]
            del self._pending[: len(batch)]
            try:
                await self.rpc.node_update_alloc(batch)
            except asyncio.CancelledError:
                self._pending[:0] = batch
                raise
            except Exception as exc:  # retried on the next tick
                log.warning("sim alloc update of %d allocations failed: %s", len(batch), exc)
                self._pending[:0] = batch
                return
            running = sum(1 for u in batch if u.client_status == "running")
            self.acked += running
            if self.on_ack is not None:
                self.on_ack(running)


_STATES: dict[str, TaskState] = {}


def _task_state(status: str) -> TaskState:
    """Shared, never mutated: thousands of identical task states need not be thousands."""
    state = _STATES.get(status)
    if state is None:
        state = _STATES[status] = TaskState(state="running" if status == "running" else "dead")
    return state
