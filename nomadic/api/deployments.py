"""``client.deployments``: list, read and act on deployments (Nomad's ``api/deployments.go``)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from nomadic.structs import AllocListStub, Deployment
from nomadic.structs.deployment import (
    DeploymentPauseRequest,
    DeploymentPromoteRequest,
    DeploymentRequest,
    DeploymentUpdateResponse,
)

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Deployments"]


class Deployments:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "", *, namespace: str = "") -> builtins.list[Deployment]:
        params = {k: v for k, v in (("prefix", prefix), ("namespace", namespace)) if v}
        return self._c.query("/v1/deployments", list[Deployment], params=params)

    def info(self, deployment_id: str, *, index: int = 0, wait: float | None = None) -> Deployment:
        return self._c.query(f"/v1/deployment/{deployment_id}", Deployment, index=index, wait=wait)

    def allocations(self, deployment_id: str) -> builtins.list[AllocListStub]:
        return self._c.query(f"/v1/deployment/allocations/{deployment_id}", list[AllocListStub])

    def of_job(self, job_id: str) -> builtins.list[Deployment]:
        """The job's deployments, newest first."""
        return self._c.query(f"/v1/job/{job_id}/deployments", list[Deployment])

    def latest_of_job(self, job_id: str) -> Deployment | None:
        return self._c.query(f"/v1/job/{job_id}/deployment", Deployment | None)  # type: ignore[arg-type]

    def _put(self, verb: str, deployment_id: str, body: object) -> DeploymentUpdateResponse:
        return self._c.write(
            "PUT", f"/v1/deployment/{verb}/{deployment_id}", DeploymentUpdateResponse, body
        )

    def pause(self, deployment_id: str, pause: bool) -> DeploymentUpdateResponse:
        return self._put("pause", deployment_id, DeploymentPauseRequest(pause=pause))

    def promote(
        self, deployment_id: str, groups: builtins.list[str] | None = None
    ) -> DeploymentUpdateResponse:
        req = DeploymentPromoteRequest(all=not groups, groups=list(groups or []))
        return self._put("promote", deployment_id, req)

    def fail(self, deployment_id: str) -> DeploymentUpdateResponse:
        return self._put("fail", deployment_id, DeploymentRequest())

    def run(self, deployment_id: str) -> DeploymentUpdateResponse:
        return self._put("run", deployment_id, DeploymentRequest())

    def unblock(self, deployment_id: str) -> DeploymentUpdateResponse:
        return self._put("unblock", deployment_id, DeploymentRequest())
