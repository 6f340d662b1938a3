"""Job endpoints: register, read, list, stop, validate, and the errors users can cause."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from http_fakes import FakeServer, web_job

Client = TestClient  # type: ignore[type-arg]


async def register(api: Any, job: dict[str, Any]) -> dict[str, Any]:
    resp = await api.put("/v1/jobs", json={"Job": job})
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_register_answers_nomads_shape_and_index_header(api: Any, server: FakeServer) -> None:
    server.add_node()
    resp = await api.post("/v1/jobs", json={"Job": web_job()})
    body = await resp.json()
    assert resp.status == 200
    assert {"EvalID", "EvalCreateIndex", "JobModifyIndex", "Warnings"} <= body.keys()
    assert resp.headers["X-Nomad-Index"] == str(body["Index"])
    assert resp.headers["X-Nomad-KnownLeader"] == "true"
    assert resp.headers["X-Nomad-LastContact"] == "0"


async def test_get_job_and_list_with_prefix(api: Any) -> None:
    await register(api, web_job("web"))
    await register(api, web_job("api"))
    job = await (await api.get("/v1/job/web")).json()
    assert job["ID"] == "web"
    assert job["TaskGroups"][0]["Tasks"][0]["Resources"]["MemoryMB"] == 64
    listed = await (await api.get("/v1/jobs?prefix=w")).json()
    assert [j["ID"] for j in listed] == ["web"]
    assert listed[0]["JobSummary"]["Summary"]["web"]["Queued"] == 0
    assert [j["ID"] for j in await (await api.get("/v1/jobs")).json()] == ["api", "web"]


async def test_unknown_job_is_404_plain_text(api: Any) -> None:
    resp = await api.get("/v1/job/nope")
    assert resp.status == 404
    assert await resp.text() == "job not found\n"
    resp = await api.delete("/v1/job/nope")
    assert resp.status == 404


async def test_malformed_json_is_400_saying_what_is_wrong(api: Any) -> None:
    resp = await api.put("/v1/jobs", data=b'{"Job": {')
    assert resp.status == 400
    assert (await resp.text()).startswith("malformed JSON in request body:")


async def test_body_without_job_is_400(api: Any) -> None:
    resp = await api.put("/v1/jobs", json={"ID": "web"})
    assert resp.status == 400
    assert await resp.text() == 'request body must be a JSON object with a "Job" object\n'


async def test_wrong_field_type_is_400_naming_the_field(api: Any) -> None:
    job = web_job()
    job["TaskGroups"][0]["Count"] = "three"
    resp = await api.put("/v1/jobs", json={"Job": job})
    assert resp.status == 400
    assert "Count" in await resp.text()


async def test_invalid_job_is_400_with_validation_message(api: Any) -> None:
    job = web_job()
    job["TaskGroups"][0]["Tasks"][0]["Driver"] = ""
    resp = await api.put("/v1/jobs", json={"Job": job})
    assert resp.status == 400
    assert await resp.text() == "task 'server' in group 'web': missing a driver\n"


async def test_register_on_job_url_checks_the_id(api: Any) -> None:
    resp = await api.post("/v1/job/other", json={"Job": web_job("web")})
    assert resp.status == 400
    assert "does not match" in await resp.text()
    resp = await api.post("/v1/job/web", json={"Job": web_job("web")})
    assert resp.status == 200


async def test_deregister_stops_and_purge_removes(api: Any) -> None:
    await register(api, web_job())
    resp = await api.delete("/v1/job/web")
    body = await resp.json()
    assert resp.status == 200
    assert set(body) >= {"EvalID", "EvalCreateIndex", "JobModifyIndex"}
    assert (await (await api.get("/v1/job/web")).json())["Stop"] is True
    resp = await api.delete("/v1/job/web?purge=true")
    assert resp.status == 200
    assert (await api.get("/v1/job/web")).status == 404


async def test_job_subresources(api: Any, server: FakeServer) -> None:
    server.add_node()
    reg = await register(api, web_job(count=2))
    allocs = await (await api.get("/v1/job/web/allocations")).json()
    assert len(allocs) == 2
    assert allocs[0]["TaskGroup"] == "web"
    evals = await (await api.get("/v1/job/web/evaluations")).json()
    assert [e["ID"] for e in evals] == [reg["EvalID"]]
    summary = await (await api.get("/v1/job/web/summary")).json()
    assert summary["Summary"]["web"]["Running"] == 2
    versions = await (await api.get("/v1/job/web/versions")).json()
    assert versions["Diffs"] is None
    assert [v["Version"] for v in versions["Versions"]] == [0]


async def test_validate_reports_errors_without_storing(api: Any) -> None:
    ok = await (await api.post("/v1/validate/job", json={"Job": web_job()})).json()
    assert ok == {
        "DriverConfigValidated": False,
        "ValidationErrors": [],
        "Error": "",
        "Warnings": "",
    }
    bad = web_job()
    bad["TaskGroups"][0]["Count"] = -1
    body = await (await api.post("/v1/validate/job", json={"Job": bad})).json()
    assert body["ValidationErrors"] == ["group 'web': count -1 must not be negative"]
    assert body["Error"] == "group 'web': count -1 must not be negative"
    assert (await api.get("/v1/job/web")).status == 404


async def test_validate_checks_volume_mounts_and_warns_about_kept_blocks(api: Any) -> None:
    job = web_job()
    task = job["TaskGroups"][0]["Tasks"][0]
    task["VolumeMounts"] = [{"Volume": "data", "Destination": "/srv"}]
    body = await (await api.post("/v1/validate/job", json={"Job": job})).json()
    assert body["ValidationErrors"] == [
        "task 'server' in group 'web': volume_mount refers to volume 'data', which the group "
        "does not declare (add a volume block to the group)"
    ]
    job["TaskGroups"][0]["Volumes"] = {
        "data": {"Type": "host", "Source": "shared"},
        "db": {"Type": "csi", "Source": "ebs"},
    }
    task["Vault"] = {"Policies": ["p"]}
    body = await (await api.post("/v1/validate/job", json={"Job": job})).json()
    assert body["ValidationErrors"] == []
    assert body["Warnings"] == (
        "2 warnings occurred:\n"
        "\t* group 'web': CSI volumes (db) are kept, but nomadic runs no CSI plugins: they are "
        "not mounted (host volumes are)\n"
        "\t* task 'server' in group 'web': nomadic has no Vault integration; vault is ignored\n"
    )
    registered = await (await api.post("/v1/jobs", json={"Job": job})).json()
    assert registered["Warnings"] == body["Warnings"]


async def test_wrong_method_is_405(api: Any) -> None:
    resp = await api.patch("/v1/jobs")
    assert resp.status == 405


async def test_pretty_output_is_indented(api: Any) -> None:
    await register(api, web_job())
    text = await (await api.get("/v1/job/web?pretty")).text()
    assert text.startswith('{\n    "Region": "global",')
