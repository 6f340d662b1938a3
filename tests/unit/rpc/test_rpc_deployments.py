"""``Deployment.*`` over gRPC (what a follower forwards and the multiregion coordinator calls):
run a pending deployment, unblock a blocked one, errors as our error types."""

from __future__ import annotations

import msgspec
import pytest
from rpc_servers import served_server

from nomadic.errors import NotFoundError, ValidationError
from nomadic.rpc import RPCPool
from nomadic.state.entries import ApplyPlanResults
from nomadic.structs import Deployment, DeploymentState
from nomadic.structs.deployment import (
    DeploymentReply,
    DeploymentRequest,
    DeploymentSpecificRequest,
    DeploymentUpdateResponse,
)
from nomadic.testing.factories import mock_job


async def test_run_and_unblock_over_rpc() -> None:
    async with served_server(num_schedulers=0) as (rpc, server):
        job = mock_job(id="web")
        await server.job_register(job)
        d = Deployment(
            id="d-1",
            job_id="web",
            is_multiregion=True,
            status="pending",
            task_groups={"web": DeploymentState(desired_total=1)},
        )
        await server.apply(ApplyPlanResults(deployment=d))
        pool = RPCPool()
        addr = rpc.member.rpc_addr
        try:
            resp = await pool.call(
                addr,
                "Deployment.Run",
                DeploymentRequest(deployment_id="d-1"),
                DeploymentUpdateResponse,
            )
            stored = server.snapshot().deployment_by_id("d-1")
            assert stored is not None and stored.status == "running" and resp.eval_id
            with pytest.raises(ValidationError, match="not blocked"):
                await pool.call(
                    addr,
                    "Deployment.Unblock",
                    DeploymentRequest(deployment_id="d-1"),
                    DeploymentUpdateResponse,
                )
            with pytest.raises(NotFoundError):
                await pool.call(
                    addr,
                    "Deployment.Fail",
                    DeploymentRequest(deployment_id="nope"),
                    DeploymentUpdateResponse,
                )
            blocked = msgspec.structs.replace(stored, status="blocked")
            await server.apply(ApplyPlanResults(deployment=blocked))
            await pool.call(
                addr,
                "Deployment.Unblock",
                DeploymentRequest(deployment_id="d-1"),
                DeploymentUpdateResponse,
            )
            latest = await pool.call(
                addr,
                "Job.LatestDeployment",
                DeploymentSpecificRequest(job_id="web"),
                DeploymentReply,
            )
            assert latest.deployment is not None and latest.deployment.id == "d-1"
            got = await pool.call(
                addr,
                "Deployment.GetDeployment",
                DeploymentSpecificRequest(deployment_id="d-1"),
                DeploymentReply,
            )
            assert got.deployment is not None and got.deployment.status == "successful"
            snap = server.snapshot()
            done = snap.deployment_by_id("d-1")
            assert done is not None and done.status == "successful"
            current = snap.job_by_id("default", "web")
            assert current is not None and current.stable
        finally:
            await pool.close()
