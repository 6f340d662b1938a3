"""Rolling updates end to end in one process: a real Server (real scheduler, plan applier and
deployment watcher) and a scripted client that runs allocations and reports their health."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable

import pytest
from server_fakes import server_config

from nomadic.errors import ValidationError
from nomadic.server import LocalServerRPC, Server
from nomadic.structs import (
    Allocation,
    AllocDeploymentStatus,
    AllocUpdate,
    Deployment,
    Job,
    TaskState,
    UpdateStrategy,
)
from nomadic.structs.deployment import DeploymentPauseRequest, DeploymentRequest
from nomadic.testing.factories import mock_job, mock_node

MAX_PARALLEL = 1
COUNT = 3


class ScriptedClient:
    """Acknowledges allocations like a client: running, then a health verdict one round
    later (unhealthy when the job's meta says ``healthy = "false"``); stops complete."""

    def __init__(self, server: Server, job_id: str) -> None:
        self.server = server
        self.rpc = LocalServerRPC(server)
        self.job_id = job_id
        self.worst_unavailable = 0  # most old allocs stopped while replacements not healthy
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            allocs = self.server.snapshot().allocs_by_job("default", self.job_id)
            self._observe(allocs)
            updates = [u for a in allocs if (u := self._next(a)) is not None]
            if updates:
                await self.rpc.node_update_alloc(updates)
            await asyncio.sleep(0.02)

    def _observe(self, allocs: list[Allocation]) -> None:
        job = self.server.snapshot().job_by_id("default", self.job_id)
        if job is None:
            return
        live = [a for a in allocs if not a.terminal()]
        healthy = [
            a for a in live if a.deployment_status is not None and a.deployment_status.is_healthy()
        ]
        group = job.task_groups[0]
        self.worst_unavailable = max(self.worst_unavailable, group.count - len(healthy))

    def _next(self, alloc: Allocation) -> AllocUpdate | None:
        running = {"web": TaskState(state="running")}
        if alloc.server_terminal():
            if alloc.client_status != "complete":
                return AllocUpdate(id=alloc.id, client_status="complete")
            return None
        if alloc.client_status == "pending":
            return AllocUpdate(id=alloc.id, client_status="running", task_states=running)
        status = alloc.deployment_status
        if alloc.deployment_id and (status is None or not status.has_health()):
            ok = alloc.job is None or alloc.job.meta.get("healthy") != "false"
            verdict = AllocDeploymentStatus(healthy=ok, timestamp=time.time_ns())
            return AllocUpdate(
                id=alloc.id, client_status="running", task_states=running, deployment_status=verdict
            )
        return None


@pytest.fixture
async def real() -> AsyncIterator[Server]:
    srv = Server(server_config())
    await srv.start()
    await srv.wait_for_leader()
    for name in ("node-a", "node-b"):
        await LocalServerRPC(srv).node_register(mock_node(id=name))
    yield srv
    await srv.shutdown()


def web_job(**update: object) -> Job:
    job = mock_job(id="web")
    job.task_groups[0].count = COUNT
    job.task_groups[0].update = UpdateStrategy(max_parallel=MAX_PARALLEL, **update)  # type: ignore[arg-type]
    return job


async def until(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def latest(server: Server) -> Deployment | None:
    return server.snapshot().latest_deployment_by_job("default", "web")


def settled(server: Server, version: int, status: str) -> bool:
    d = latest(server)
    return d is not None and d.job_version == version and d.status == status


def version_status(server: Server, version: int) -> str:
    found = [
        d.status
        for d in server.snapshot().deployments_by_job("default", "web")
        if d.job_version == version
    ]
    return found[-1] if found else ""


def stable_versions(server: Server) -> list[int]:
    return sorted(j.version for j in server.snapshot().job_versions("default", "web") if j.stable)


def changed(job: Job, **meta: str) -> Job:
    new = copy.deepcopy(job)
    new.meta.update(meta)  # job meta is part of every task's environment: destructive
    return new


async def test_a_rolling_update_keeps_max_parallel_and_marks_versions_stable(real: Server) -> None:
    client = ScriptedClient(real, "web")
    await client.start()
    try:
        job = web_job()
        await real.job_register(job)
        await until(lambda: settled(real, 0, "successful"), "version 0 deployed")
        assert stable_versions(real) == [0]
        client.worst_unavailable = 0
        await real.job_register(changed(job, rev="1"))
        await until(lambda: settled(real, 1, "successful"), "version 1 deployed")
        d = latest(real)
        assert d is not None and d.status_description == "Deployment completed successfully"
        state = d.task_groups["web"]
        assert (state.desired_total, state.placed_allocs, state.healthy_allocs) == (3, 3, 3)
        assert client.worst_unavailable <= MAX_PARALLEL
        assert stable_versions(real) == [0, 1]
        live = [a for a in real.snapshot().allocs_by_job("default", "web") if not a.terminal()]
        assert sorted(a.job.version for a in live if a.job) == [1, 1, 1]
    finally:
        await client.stop()


async def test_an_unhealthy_version_fails_and_auto_reverts(real: Server) -> None:
    client = ScriptedClient(real, "web")
    await client.start()
    try:
        job = web_job(auto_revert=True)
        await real.job_register(job)
        await until(lambda: settled(real, 0, "successful"), "version 0 deployed")
        await real.job_register(changed(job, healthy="false"))
        await until(lambda: version_status(real, 1) == "failed", "version 1 failed")
        failed = real.snapshot().deployments_by_job("default", "web")[1]
        assert failed.status_description == (
            "Failed due to unhealthy allocations - rolling back to job version 0"
        )
        # the revert registers version 0's spec as version 2, which deploys
        await until(lambda: settled(real, 2, "successful"), "the revert deployed")
        current = real.snapshot().job_by_id("default", "web")
        assert current is not None and current.meta.get("healthy") is None
    finally:
        await client.stop()


async def test_pause_resume_and_fail_by_hand(real: Server) -> None:
    job = web_job()
    await real.job_register(job)  # nobody acknowledges: the deployment stays running
    await until(lambda: settled(real, 0, "running"), "a running deployment")
    d = latest(real)
    assert d is not None
    await real.deployment_pause(DeploymentPauseRequest(deployment_id=d.id, pause=True))
    assert settled(real, 0, "paused")
    resp = await real.deployment_pause(DeploymentPauseRequest(deployment_id=d.id, pause=False))
    assert settled(real, 0, "running") and resp.eval_id
    with pytest.raises(ValidationError, match="not pending"):
        await real.deployment_run(DeploymentRequest(deployment_id=d.id))
    await real.deployment_fail(DeploymentRequest(deployment_id=d.id))
    d = latest(real)
    assert d is not None and (d.status, d.status_description) == (
        "failed",
        "Deployment marked as failed",
    )
    with pytest.raises(ValidationError, match="terminal deployment"):
        await real.deployment_pause(DeploymentPauseRequest(deployment_id=d.id, pause=True))
