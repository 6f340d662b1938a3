"""``/v1/deployments``, ``/v1/deployment/...`` and ``/v1/job/:id/deployment(s)``."""

from __future__ import annotations

from typing import Any

from http_fakes import FakeServer, web_job

from nomadic.structs import Deployment, DeploymentState
from nomadic.structs.deployment import DeploymentPauseRequest, DeploymentUpdateResponse

D1 = "11111111-aaaa-bbbb-cccc-000000000001"
D2 = "22222222-aaaa-bbbb-cccc-000000000002"


def _deploy(server: FakeServer, deployment_id: str, version: int) -> None:
    d = Deployment(
        id=deployment_id,
        job_id="web",
        job_version=version,
        task_groups={"web": DeploymentState(desired_total=1)},
    )
    server.write(lambda i: server.store.upsert_deployment(i, d))


async def test_deployment_reads(api: Any, server: FakeServer) -> None:
    server.add_node()
    await api.put("/v1/jobs", json={"Job": web_job()})
    _deploy(server, D1, 0)
    _deploy(server, D2, 1)
    listed = await (await api.get("/v1/deployments")).json()
    assert [d["ID"] for d in listed] == [D1, D2]
    assert listed[0]["TaskGroups"]["web"]["DesiredTotal"] == 1
    one = await (await api.get(f"/v1/deployment/{D2}")).json()
    assert (one["JobVersion"], one["Status"]) == (1, "running")
    by_job = await (await api.get("/v1/job/web/deployments")).json()
    assert [d["ID"] for d in by_job] == [D2, D1]  # newest first
    latest = await (await api.get("/v1/job/web/deployment")).json()
    assert latest["ID"] == D2
    assert await (await api.get("/v1/job/nope/deployment")).json() is None
    allocs = await (await api.get(f"/v1/deployment/allocations/{D1}")).json()
    assert allocs == []
    resp = await api.get("/v1/deployment/ffffffff-0000-0000-0000-000000000000")
    assert resp.status == 404


async def test_deployment_pause_reaches_the_server(api: Any, server: FakeServer) -> None:
    _deploy(server, D1, 0)
    calls: list[DeploymentPauseRequest] = []

    async def pause(req: DeploymentPauseRequest) -> DeploymentUpdateResponse:
        calls.append(req)
        return DeploymentUpdateResponse(deployment_modify_index=9, index=9)

    server.deployment_pause = pause  # type: ignore[attr-defined]
    resp = await api.put(f"/v1/deployment/pause/{D1[:8]}", json={"Pause": True})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["DeploymentModifyIndex"] == 9
    assert calls == [DeploymentPauseRequest(deployment_id=D1, pause=True)]
    resp = await api.put(f"/v1/deployment/pause/{D1}", json={"DeploymentID": D2, "Pause": True})
    assert resp.status == 400
    assert "does not match" in await resp.text()
