"""The Deployment.* part of the server's API (a mixin of :class:`~nomadic.server.Server`).

Each write runs on the leader's :class:`~nomadic.server.endpoints.deployment.DeploymentEndpoint`
or, on a follower, is forwarded to the leader under its RPC name (``Deployment.Pause`` ...),
which :mod:`nomadic.rpc.server` serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nomadic.structs.deployment import (
    DeploymentAllocHealthRequest,
    DeploymentPauseRequest,
    DeploymentPromoteRequest,
    DeploymentRequest,
    DeploymentUpdateResponse,
)

from .endpoints.deployment import DeploymentEndpoint

__all__ = ["DeploymentAPI"]

T = TypeVar("T")


class DeploymentAPI:
    deployments: DeploymentEndpoint

    async def _on_leader(
        self, method: str, req: Any, reply: type[T], local: Callable[[], Awaitable[T]]
    ) -> T:
        raise NotImplementedError  # provided by Server

    async def deployment_pause(self, req: DeploymentPauseRequest) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.Pause",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.pause(req.deployment_id, req.pause),
        )

    async def deployment_promote(self, req: DeploymentPromoteRequest) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.Promote",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.promote(req.deployment_id, req.all, req.groups),
        )

    async def deployment_fail(self, req: DeploymentRequest) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.Fail",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.fail(req.deployment_id),
        )

    async def deployment_run(self, req: DeploymentRequest) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.Run",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.run(req.deployment_id),
        )

    async def deployment_unblock(self, req: DeploymentRequest) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.Unblock",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.unblock(req.deployment_id),
        )

    async def deployment_alloc_health(
        self, req: DeploymentAllocHealthRequest
    ) -> DeploymentUpdateResponse:
        return await self._on_leader(
            "Deployment.SetAllocHealth",
            req,
            DeploymentUpdateResponse,
            lambda: self.deployments.set_alloc_health(
                req.deployment_id, req.healthy_allocation_ids, req.unhealthy_allocation_ids
            ),
        )
