"""The multiregion rollout coordinator: one job's deployments across its regions, in order.

Each region deploys its copy of a multiregion job on its own; the deployments start
``pending`` and end ``blocked`` instead of ``successful`` (the deployment watcher and the
scheduler see to that). The leader of the job's FIRST listed region coordinates them:

    every interval, for each multiregion job whose first region is ours:
      read each region's latest deployment of the job     (Job.LatestDeployment, region_rpc)
      rollout_actions(strategy, [(region, status), ...])  (pure)
        a region failed   -> on_failure:  ""          fail it and every later region
                                          fail_all    fail every region
                                          fail_local  fail nothing more; the others stay
                                                      (blocked until `deployment unblock`)
        otherwise         -> run pending regions, in order, while fewer than max_parallel
                             (0: all) are running
        all blocked       -> unblock them all (each becomes successful)
      send each action (Deployment.Run / Unblock / Fail) to its region

A region that cannot be reached stops this round for that job only; nothing else waits on it.
Actions are idempotent in effect: one that lost a race (the deployment moved on) is logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nomadic.errors import NomadicError
from nomadic.structs import Job
from nomadic.structs import deployment as dep
from nomadic.structs.deployment import (
    DeploymentReply,
    DeploymentRequest,
    DeploymentSpecificRequest,
    DeploymentUpdateResponse,
)
from nomadic.structs.jobextras import MultiregionStrategy

if TYPE_CHECKING:
    from .server import Server

__all__ = ["MultiregionRollout", "RolloutAction", "rollout_actions"]

log = logging.getLogger(__name__)

RUN, UNBLOCK, FAIL = "run", "unblock", "fail"
_METHODS = {RUN: "Deployment.Run", UNBLOCK: "Deployment.Unblock", FAIL: "Deployment.Fail"}
_ACTIVE = frozenset(
    {
        dep.DEPLOYMENT_STATUS_PENDING,
        dep.DEPLOYMENT_STATUS_RUNNING,
        dep.DEPLOYMENT_STATUS_PAUSED,
        dep.DEPLOYMENT_STATUS_BLOCKED,
        dep.DEPLOYMENT_STATUS_UNBLOCKING,
    }
)
_IN_FLIGHT = frozenset({dep.DEPLOYMENT_STATUS_RUNNING, dep.DEPLOYMENT_STATUS_PAUSED})
_DONE = frozenset({dep.DEPLOYMENT_STATUS_BLOCKED, dep.DEPLOYMENT_STATUS_SUCCESSFUL})


@dataclass(frozen=True)
class RolloutAction:
    region: str
    verb: str  # run, unblock or fail


def rollout_actions(
    strategy: MultiregionStrategy | None, regions: list[tuple[str, str]]
) -> list[RolloutAction]:
    """What to do next, given each region's deployment status in the job's region order
    ("" when a region has no deployment of the job yet: wait for it)."""
    statuses = [status for _, status in regions]
    if not statuses or "" in statuses or dep.DEPLOYMENT_STATUS_CANCELLED in statuses:
        return []  # not every region deployed this version yet, or a newer one replaces it
    on_failure = strategy.on_failure if strategy is not None else ""
    if dep.DEPLOYMENT_STATUS_FAILED in statuses:
        first = statuses.index(dep.DEPLOYMENT_STATUS_FAILED)
        if on_failure == "fail_local":
            targets: list[tuple[str, str]] = []
        elif on_failure == "fail_all":
            targets = regions
        else:
            targets = regions[first:]
        return [RolloutAction(r, FAIL) for r, s in targets if s in _ACTIVE]
    if all(s in _DONE for s in statuses):
        return [RolloutAction(r, UNBLOCK) for r, s in regions if s == dep.DEPLOYMENT_STATUS_BLOCKED]
    max_parallel = strategy.max_parallel if strategy is not None else 0
    room = len(regions) if max_parallel <= 0 else max_parallel
    room -= sum(1 for s in statuses if s in _IN_FLIGHT)
    pending = [r for r, s in regions if s == dep.DEPLOYMENT_STATUS_PENDING]
    return [RolloutAction(r, RUN) for r in pending[: max(room, 0)]]


class MultiregionRollout:
    """The coordinator loop; acts only while its server leads and federates."""

    def __init__(self, server: Server, interval: float = 1.0) -> None:
        self.server = server
        self.interval = interval

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.server.is_leader() or self.server.cross_region is None:
                continue
            try:
                await self.tick()
            except Exception:  # a supervisor loop: log and keep coordinating
                log.exception("multiregion rollout round failed")

    async def tick(self) -> None:
        # jobs side by side: a slow region holds up only the jobs deployed there
        await asyncio.gather(*(self._coordinate_logged(job) for job in self._coordinated_jobs()))

    async def _coordinate_logged(self, job: Job) -> None:
        try:
            await self.coordinate(job)
        except NomadicError as exc:
            log.info("multiregion job %s: rollout waits: %s", job.id, exc)

    def _coordinated_jobs(self) -> list[Job]:
        region = self.server.region
        return [
            job
            for job in self.server.snapshot().jobs(None, "")
            if job.multiregion is not None
            and job.multiregion.regions
            and job.multiregion.regions[0].name == region
            and not job.stop
        ]

    async def coordinate(self, job: Job) -> list[RolloutAction]:
        assert job.multiregion is not None
        ids: dict[str, str] = {}
        regions: list[tuple[str, str]] = []
        for spec in job.multiregion.regions:
            if spec.name == self.server.region:
                d = self.server.snapshot().latest_deployment_by_job(job.namespace, job.id)
            else:
                req = DeploymentSpecificRequest(namespace=job.namespace, job_id=job.id)
                reply = await self.server.region_rpc(
                    spec.name, "Job.LatestDeployment", req, DeploymentReply
                )
                d = reply.deployment
            ids[spec.name] = d.id if d is not None else ""
            regions.append((spec.name, d.status if d is not None else ""))
        actions = rollout_actions(job.multiregion.strategy, regions)
        for action in actions:
            log.info(
                "multiregion job %s: %s the deployment in region %s",
                job.id,
                action.verb,
                action.region,
                extra={"job_id": job.id, "deployment_id": ids[action.region]},
            )
            try:
                await self.server.region_rpc(
                    action.region,
                    _METHODS[action.verb],
                    DeploymentRequest(deployment_id=ids[action.region]),
                    DeploymentUpdateResponse,
                )
            except NomadicError as exc:
                log.info(
                    "multiregion job %s: %s in %s: %s", job.id, action.verb, action.region, exc
                )
        return actions
