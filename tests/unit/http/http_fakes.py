"""In-memory ServerAPI and ClientAPI (the HTTP API's seams) over a real StateStore.

The fake server "schedules" synchronously: registering a job places ``count`` allocations of
every group on the first node and completes the eval, unless ``fail_placement`` holds the
AllocMetric to report instead. Writes may come from any thread (CLI tests run the app in a
background loop); waiters are woken on the loop that runs the app.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from nomadic.errors import NotFoundError, ValidationError
from nomadic.plugin import ExecStreams, ExitResult, run_process_exec
from nomadic.state.store import StateStore
from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    AllocMetric,
    DriverInfo,
    Evaluation,
    Job,
    Node,
    TaskEvent,
    TaskState,
    canonicalize,
    validate,
)
from nomadic.structs.requests import (
    AllocStopResponse,
    JobDeregisterResponse,
    JobPlanResponse,
    JobRegisterResponse,
    ServerMember,
)


def now() -> int:
    return time.time_ns()


class FakeServer:
    region = "global"
    datacenter = "dc1"

    def __init__(self, seed: int = 7) -> None:
        self.store = StateStore()
        self.index = 0
        self.leader = "127.0.0.1:4647"
        self.fail_placement: dict[str, AllocMetric] | None = None
        self.auto_schedule = True
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self.drains: list[Any] = []  # drain strategies set, in order (None: disabled)
        self.other_regions: dict[str, list[str]] = {}  # region -> HTTP addresses
        self.joined: list[str] = []
        self.left: list[str] = []  # servers force-left
        self.planned: list[str] = []  # job IDs planned here

    # -- helpers for tests --------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def write(self, fn: Any) -> int:
        with self._lock:
            self.index += 1
            fn(self.index)
            index = self.index
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._wake)
        return index

    def _wake(self) -> None:
        assert self._changed is not None
        self._changed.set()
        self._changed = asyncio.Event()

    def add_node(self, name: str = "node1", **kw: Any) -> Node:
        node = Node(
            id=kw.pop("id", self.new_id()),
            secret_id="s3cr3t",
            name=name,
            status="ready",
            drivers={"raw_exec": DriverInfo(detected=True, healthy=True)},
            attributes={"nomad.version": "0.1.0", "unique.network.ip-address": "127.0.0.1"},
            **kw,
        )
        self.write(lambda i: self.store.upsert_node(i, node))
        return node

    # -- ServerAPI ----------------------------------------------------------------------

    def snapshot(self) -> Any:
        return self.store.snapshot()

    async def wait_for_index(self, min_index: int, timeout: float) -> int:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._changed = asyncio.Event()
        deadline = time.monotonic() + timeout
        while self.store.latest_index() <= min_index:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            assert self._changed is not None
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                break
        return self.store.latest_index()

    async def job_register(
        self, job: Job, *, enforce_index: bool = False, job_modify_index: int = 0
    ) -> JobRegisterResponse:
        job = canonicalize(job)
        errors = validate(job)
        if errors:
            raise ValidationError(errors)
        job = msgspec.structs.replace(job, submit_time=now())
        ev = Evaluation(
            id=self.new_id(),
            job_id=job.id,
            type=job.type,
            triggered_by="job-register",
            create_time=now(),
            modify_time=now(),
        )
        self.write(lambda i: self.store.upsert_job(i, job))
        index = self.write(lambda i: self.store.upsert_evals(i, [ev]))
        stored = self.store.snapshot().job_by_id(job.namespace, job.id)
        assert stored is not None
        if self.auto_schedule:
            self.schedule(ev.id)
        return JobRegisterResponse(
            eval_id=ev.id,
            eval_create_index=index,
            job_modify_index=stored.job_modify_index,
            index=index,
        )

    async def job_plan(self, job: Job, *, diff: bool = False) -> JobPlanResponse:
        """The real dry run (the scheduler over this store)."""
        from nomadic.server.endpoints.job_plan import plan_job

        self.planned.append(job.id)
        return await plan_job(self.store.snapshot(), job, diff=diff)

    def schedule(self, eval_id: str) -> None:
        """Place the eval's job (or record ``fail_placement``) and complete the eval."""
        snap = self.store.snapshot()
        ev = snap.eval_by_id(eval_id)
        assert ev is not None
        job = snap.job_by_id(ev.namespace, ev.job_id)
        nodes = snap.nodes()
        if self.fail_placement is not None:
            blocked = Evaluation(
                id=self.new_id(),
                job_id=ev.job_id,
                type=ev.type,
                triggered_by="queued-allocs",
                status="blocked",
                previous_eval=ev.id,
                create_time=now(),
                modify_time=now(),
            )
            done = msgspec.structs.replace(
                ev,
                status="complete",
                failed_tg_allocs=self.fail_placement,
                blocked_eval=blocked.id,
                modify_time=now(),
            )
            self.write(lambda i: self.store.upsert_evals(i, [done, blocked]))
            return
        allocs = []
        if job is not None and not job.stop and nodes:
            for tg in job.task_groups:
                for n in range(tg.count):
                    allocs.append(self._alloc(job, tg.name, n, nodes[0], eval_id))
        if allocs:
            self.write(lambda i: self.store.upsert_allocs(i, allocs))
        done = msgspec.structs.replace(ev, status="complete", modify_time=now())
        self.write(lambda i: self.store.upsert_evals(i, [done]))

    def _alloc(self, job: Job, group: str, n: int, node: Node, eval_id: str) -> Allocation:
        tg = job.lookup_task_group(group)
        assert tg is not None
        resources = AllocatedResources(
            tasks={
                t.name: AllocatedTaskResources(
                    cpu=AllocatedCpuResources(cpu_shares=t.resources.cpu),
                    memory=AllocatedMemoryResources(memory_mb=t.resources.memory_mb),
                )
                for t in tg.tasks
            },
            shared=AllocatedSharedResources(disk_mb=tg.ephemeral_disk.size_mb),
        )
        return Allocation(
            allocated_resources=resources,
            id=self.new_id(),
            eval_id=eval_id,
            name=f"{job.id}.{group}[{n}]",
            node_id=node.id,
            node_name=node.name,
            job_id=job.id,
            job=job,
            task_group=group,
            client_status="running",
            task_states={
                t.name: TaskState(
                    state="running",
                    started_at="2023-11-14T22:13:21Z",
                    events=[
                        TaskEvent(
                            type="Received", time=now(), display_message="Task received by client"
                        ),
                        TaskEvent(
                            type="Started",
                            time=now() + 10**9,
                            display_message="Task started by client",
                        ),
                    ],
                )
                for t in tg.tasks
            },
            create_time=now(),
            modify_time=now(),
        )

    async def job_deregister(
        self, namespace: str, job_id: str, *, purge: bool = False, global_: bool = False
    ) -> JobDeregisterResponse:
        job = self.store.snapshot().job_by_id(namespace, job_id)
        if job is None:
            raise NotFoundError("job not found")
        if purge:
            self.write(lambda i: self.store.delete_job(i, namespace, job_id))
        else:
            stopped = msgspec.structs.replace(job, stop=True)
            self.write(lambda i: self.store.upsert_job(i, stopped))
        ev = Evaluation(
            id=self.new_id(), job_id=job_id, type=job.type, triggered_by="job-deregister"
        )
        index = self.write(lambda i: self.store.upsert_evals(i, [ev]))
        if self.auto_schedule:
            self._stop_allocs(job_id)
            done = msgspec.structs.replace(ev, status="complete")
            self.write(lambda i: self.store.upsert_evals(i, [done]))
        return JobDeregisterResponse(
            eval_id=ev.id, eval_create_index=index, job_modify_index=index, index=index
        )

    def _stop_allocs(self, job_id: str) -> None:
        allocs = [
            msgspec.structs.replace(a, desired_status="stop", client_status="complete")
            for a in self.store.snapshot().allocs()
            if a.job_id == job_id
        ]
        if allocs:
            self.write(lambda i: self.store.upsert_allocs(i, allocs))

    async def alloc_stop(self, alloc_id: str) -> AllocStopResponse:
        alloc = self.store.snapshot().alloc_by_id(alloc_id)
        if alloc is None:
            raise NotFoundError("alloc not found")
        ev = Evaluation(id=self.new_id(), job_id=alloc.job_id, triggered_by="alloc-stop")
        index = self.write(lambda i: self.store.upsert_evals(i, [ev]))
        return AllocStopResponse(eval_id=ev.id, index=index)

    async def node_update_drain(self, req: Any) -> Any:
        """Like the server, then like the drainer on a node with nothing to move: done."""
        from nomadic.structs import DrainStrategy
        from nomadic.structs.requests import NodeUpdateResponseEvals

        spec = req.drain_spec
        strategy = None if spec is None else DrainStrategy(deadline=spec.deadline)
        index = self.write(
            lambda i: self.store.update_node_drain(
                i, req.node_id, strategy, mark_eligible=req.mark_eligible, updated_at=now()
            )
        )
        self.drains.append(strategy)
        if strategy is not None:
            self.write(
                lambda i: self.store.update_node_drain(
                    i, req.node_id, None, mark_eligible=False, updated_at=now()
                )
            )
        return NodeUpdateResponseEvals(node_modify_index=index, index=index)

    async def node_update_eligibility(self, req: Any) -> Any:
        from nomadic.structs.requests import NodeUpdateResponseEvals

        index = self.write(
            lambda i: self.store.update_node_eligibility(i, req.node_id, req.eligibility)
        )
        return NodeUpdateResponseEvals(node_modify_index=index, index=index)

    async def scheduler_set_config(self, config: Any) -> Any:
        from nomadic.structs.requests import SchedulerSetConfigResponse

        index = self.write(lambda i: self.store.set_scheduler_config(i, config))
        return SchedulerSetConfigResponse(updated=True, index=index)

    def leader_addr(self) -> str:
        return self.leader

    def peers(self) -> list[str]:
        return ["127.0.0.1:4647"]

    def raft_stats(self) -> dict[str, str]:
        return {"state": "Leader", "term": "2", "commit_index": "7", "applied_index": "7"}

    def members(self) -> list[ServerMember]:
        return [
            ServerMember(
                name="node1.global",
                addr="127.0.0.1",
                port=4648,
                tags={"region": "global", "dc": "dc1", "build": "0.1.0", "leader": "true"},
            )
        ]

    def raft_members(self) -> list[ServerMember]:
        return self.members()

    def regions(self) -> list[str]:
        return [self.region, *sorted(self.other_regions)]

    def region_http_addrs(self, region: str) -> list[str]:
        from nomadic.errors import RegionUnavailableError

        if region not in self.other_regions:
            raise RegionUnavailableError(f'No path to region "{region}": unknown')
        return list(self.other_regions[region])

    def force_leave(self, name: str) -> bool:
        self.left.append(name)
        return name.endswith(".global")

    async def join(self, addresses: list[str]) -> tuple[int, str]:
        self.joined.extend(addresses)
        return len(addresses), ""

    async def raft_remove_peer(self, address: str) -> str:
        from nomadic.errors import NotFoundError

        raise NotFoundError(
            f"{address} is not a Raft peer; `operator raft list-peers` shows the peers"
        )


class FakeClient:
    """Allocations are directories under ``root``; exec runs the command there for real,
    and a task named "stopped" is not running. Signals and restarts are recorded."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node_id = "client-node"
        self.signals: list[tuple[str, str, str]] = []
        self.restarts: list[tuple[str, str, bool]] = []
        self.task_usage: dict[str, Any] = {}  # task name -> TaskResourceUsage JSON

    def alloc_dir(self, alloc_id: str) -> Path:
        path = self.root / alloc_id
        if not path.is_dir():
            raise NotFoundError(f"unknown allocation {alloc_id!r} on this client")
        return path

    def make_alloc_dir(self, alloc_id: str) -> Path:
        path = self.root / alloc_id
        (path / "alloc" / "logs").mkdir(parents=True, exist_ok=True)
        return path

    async def alloc_stats(self, alloc_id: str) -> dict[str, Any]:
        self.alloc_dir(alloc_id)
        return {
            "ResourceUsage": {"MemoryStats": {"RSS": 1024}},
            "Tasks": dict(self.task_usage),
            "Timestamp": now(),
        }

    def host_stats(self) -> dict[str, Any]:
        return {"Memory": {"Total": 1 << 30}, "Uptime": 10, "Timestamp": now()}

    def _running(self, alloc_id: str, task: str) -> Path:
        path = self.alloc_dir(alloc_id)
        if task == "stopped":
            raise ValidationError(f"Task not running: task {task!r} is dead")
        return path

    async def alloc_signal(self, alloc_id: str, task: str, signal: str) -> None:
        self._running(alloc_id, task)
        self.signals.append((alloc_id, task, signal))

    async def alloc_restart(self, alloc_id: str, task: str, all_tasks: bool) -> None:
        self._running(alloc_id, task)
        self.restarts.append((alloc_id, task, all_tasks))

    async def alloc_exec(
        self, alloc_id: str, task: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        path = self._running(alloc_id, task)
        env = {"PATH": "/usr/bin:/bin", "NOMAD_TASK_NAME": task}
        return await asyncio.to_thread(
            run_process_exec, command, cwd=str(path), env=env, tty=tty, streams=streams
        )


def web_job(
    job_id: str = "web", count: int = 1, tasks: tuple[str, ...] = ("server",)
) -> dict[str, Any]:
    """A job in Nomad's API JSON shape."""
    return {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": [
            {
                "Name": "web",
                "Count": count,
                "Tasks": [
                    {
                        "Name": t,
                        "Driver": "raw_exec",
                        "Config": {"command": "/bin/sleep", "args": ["1000"]},
                        "Resources": {"CPU": 100, "MemoryMB": 64},
                    }
                    for t in tasks
                ],
            }
        ],
    }
