"""DeploymentWatcher.check on a real FSM: progress deadline, unhealthy allocations with
auto-revert, auto-promotion and the evaluations it creates as allocations turn healthy."""

from __future__ import annotations

import copy

import msgspec

from nomadic.server.deployment_watcher import DeploymentWatcher
from nomadic.state import FSM
from nomadic.state.entries import (
    ApplyPlanResults,
    DeploymentStatusUpdateRequest,
    JobRegister,
    Payload,
    encode_entry,
)
from nomadic.state.snapshot import Snapshot
from nomadic.structs import (
    AllocDeploymentStatus,
    Deployment,
    DeploymentState,
    DeploymentStatusUpdate,
)
from nomadic.structs.requests import JobRegisterResponse, JobRevertRequest
from nomadic.testing.factories import mock_alloc, mock_job


class Host:
    def __init__(self) -> None:
        self.fsm = FSM()
        self.index = 0
        self.reverts: list[JobRevertRequest] = []

    def snapshot(self) -> Snapshot:
        return self.fsm.store.snapshot()

    async def apply(self, payload: Payload) -> int:
        self.index += 1
        self.fsm.apply(self.index, encode_entry(payload, f"r{self.index}"))
        return self.index

    async def wait_for_index(self, min_index: int, timeout: float) -> int:
        return self.index

    def is_leader(self) -> bool:
        return True

    async def revert(self, req: JobRevertRequest) -> JobRegisterResponse:
        self.reverts.append(req)
        return JobRegisterResponse()

    def evals(self) -> list[str]:
        return [e.triggered_by for e in self.snapshot().evals()]


async def setup(host: Host, version: int = 0, **state: object) -> Deployment:
    job = mock_job(id="web")
    await host.apply(JobRegister(job=job))
    for _ in range(version):
        job = copy.deepcopy(job)
        job.meta["v"] = str(version)
        await host.apply(JobRegister(job=job))
    group = DeploymentState(desired_total=2)
    for name, value in state.items():
        setattr(group, name, value)
    d = Deployment(id="d1", job_id="web", job_version=version, task_groups={"web": group})
    await host.apply(ApplyPlanResults(deployment=d))
    return d


def status(host: Host, deployment_id: str = "d1") -> tuple[str, str]:
    d = host.snapshot().deployment_by_id(deployment_id)
    assert d is not None
    return d.status, d.status_description


async def test_a_passed_progress_deadline_fails_the_deployment() -> None:
    host = Host()
    await setup(host, progress_deadline=10, require_progress_by=100)
    watcher = DeploymentWatcher(host, host.revert)
    await watcher.check(host.snapshot(), now=100)
    assert status(host)[0] == "running"
    await watcher.check(host.snapshot(), now=101)
    assert status(host) == ("failed", "Failed due to progress deadline")
    assert host.evals() == ["deployment-watcher"]


async def test_unhealthy_allocs_fail_and_revert_to_the_stable_version() -> None:
    host = Host()
    old = await setup(host)
    await host.apply(ApplyPlanResults(deployment=msgspec.structs.replace(old, id="d0")))
    update = DeploymentStatusUpdate(deployment_id="d0", status="successful")  # v0 stable
    await host.apply(DeploymentStatusUpdateRequest(deployment_update=update))
    job = host.snapshot().job_by_id("default", "web")
    assert job is not None and job.stable
    changed = copy.deepcopy(job)
    changed.meta["v"] = "1"
    await host.apply(JobRegister(job=changed))
    group = DeploymentState(desired_total=2, auto_revert=True, unhealthy_allocs=1)
    failing = Deployment(id="d1", job_id="web", job_version=1, task_groups={"web": group})
    await host.apply(ApplyPlanResults(deployment=failing))
    await DeploymentWatcher(host, host.revert).check(host.snapshot(), now=1)
    assert status(host) == (
        "failed",
        "Failed due to unhealthy allocations - rolling back to job version 0",
    )
    assert [(r.job_id, r.job_version) for r in host.reverts] == [("web", 0)]


async def test_healthy_canaries_are_auto_promoted() -> None:
    host = Host()
    await setup(host, desired_canaries=1, auto_promote=True, placed_canaries=["c1"])
    job = host.snapshot().job_by_id("default", "web")
    assert job is not None
    canary = msgspec.structs.replace(
        mock_alloc(job), id="c1", deployment_status=AllocDeploymentStatus(canary=True)
    )
    await host.apply(ApplyPlanResults(allocs_updated=[canary]))
    watcher = DeploymentWatcher(host, host.revert)
    await watcher.check(host.snapshot(), now=1)
    d = host.snapshot().deployment_by_id("d1")
    assert d is not None and not d.task_groups["web"].promoted  # not healthy yet
    healthy = msgspec.structs.replace(
        canary, deployment_status=AllocDeploymentStatus(canary=True, healthy=True)
    )
    await host.apply(ApplyPlanResults(allocs_updated=[healthy]))
    await watcher.check(host.snapshot(), now=2)
    d = host.snapshot().deployment_by_id("d1")
    assert d is not None and d.task_groups["web"].promoted
    assert "deployment-watcher" in host.evals()


async def test_an_eval_each_time_allocations_turn_healthy() -> None:
    host = Host()
    d = await setup(host)
    watcher = DeploymentWatcher(host, host.revert)
    await watcher.check(host.snapshot(), now=1)
    assert host.evals() == []
    state = msgspec.structs.replace(d.task_groups["web"], healthy_allocs=1)
    await host.apply(
        ApplyPlanResults(deployment=msgspec.structs.replace(d, task_groups={"web": state}))
    )
    await watcher.check(host.snapshot(), now=2)
    await watcher.check(host.snapshot(), now=3)  # nothing new: no second eval
    assert host.evals() == ["deployment-watcher"]
