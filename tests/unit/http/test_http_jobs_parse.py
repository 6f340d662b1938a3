"""``POST /v1/jobs/parse`` against the real aiohttp app: every shared fixture round-trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from nomadic.jobspec import parse_file
from nomadic.structs import Job, canonicalize, from_builtins, to_builtins

FIXTURES = Path(__file__).parents[1] / "jobspec" / "fixtures"
XYZ_VARS = 'X = "hello"\nY = 7\nZ = true\n'


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.hcl")), ids=lambda p: p.name)
async def test_fixture_round_trips(api: TestClient[Any, Any], path: Path) -> None:
    xyz = path.name == "jobsubmissions-xyz.hcl"
    body = {"JobHCL": path.read_text(), "Variables": XYZ_VARS if xyz else "", "Canonicalize": True}
    resp = await api.post("/v1/jobs/parse", json=body)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    local = canonicalize(
        parse_file(str(path), {"X": "hello", "Y": "7", "Z": "true"} if xyz else None)
    )
    assert from_builtins(data, Job) == local
    assert data["ID"] == local.id and len(data["TaskGroups"]) == len(local.task_groups)
    assert to_builtins(from_builtins(data, Job)) == data


async def test_parse_without_canonicalize_leaves_defaults_unset(api: TestClient[Any, Any]) -> None:
    hcl = 'job "j" {\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n    }\n  }\n}\n'
    raw = await (await api.post("/v1/jobs/parse", json={"JobHCL": hcl})).json()
    canon = await (
        await api.post("/v1/jobs/parse", json={"JobHCL": hcl, "Canonicalize": True})
    ).json()
    assert raw["TaskGroups"][0]["RestartPolicy"] is None
    assert canon["TaskGroups"][0]["RestartPolicy"]["Attempts"] == 2


async def test_parse_errors_are_400_with_position(api: TestClient[Any, Any]) -> None:
    hcl = 'job "j" {\n  group "g" {\n    cout = 3\n  }\n}\n'
    resp = await api.post("/v1/jobs/parse", json={"JobHCL": hcl})
    assert resp.status == 400
    text = await resp.text()
    assert '<input>:3:5: unsupported argument "cout"' in text and 'did you mean "count"' in text


async def test_parse_uses_variables_and_disables_filesystem(api: TestClient[Any, Any]) -> None:
    hcl = 'variable "n" {}\njob "j" {\n  group "g" {\n    count = var.n\n    task "t" {\n'
    hcl += '      driver = "raw_exec"\n    }\n  }\n}\n'
    data = await (
        await api.post("/v1/jobs/parse", json={"JobHCL": hcl, "Variables": "n = 4"})
    ).json()
    assert data["TaskGroups"][0]["Count"] == 4
    resp = await api.post(
        "/v1/jobs/parse",
        json={
            "JobHCL": hcl.replace("var.n", 'length(file("/etc/hostname"))'),
            "Variables": "n = 1",
        },
    )
    assert resp.status == 400 and "filesystem function disabled" in await resp.text()
    resp = await api.post("/v1/jobs/parse", json={"Variables": ""})
    assert resp.status == 400 and "JobHCL" in await resp.text()


async def test_parse_accepts_hcl_json_and_canonicalizes_new_blocks(
    api: TestClient[Any, Any],
) -> None:
    task = {
        "driver": "raw_exec",
        "vault": {"policies": ["p"]},
        "service": {"port": "http"},
        "artifact": {"source": "https://example.com/a.tgz"},
    }
    group = {
        "count": "${var.n}",
        "scaling": {"max": 5},
        "disconnect": {"lost_after": "1h"},
        "volume": {"data": {"type": "host", "source": "shared"}},
        "task": {"t": task},
    }
    job = {"variable": {"n": {"default": 2}}, "job": {"j": {"group": {"g": group}}}}
    text = json.dumps(job)
    resp = await api.post("/v1/jobs/parse", json={"JobHCL": text, "Canonicalize": True})
    assert resp.status == 200, await resp.text()
    tg = (await resp.json())["TaskGroups"][0]
    assert tg["Count"] == 2
    assert tg["Scaling"] == {
        "ID": "",
        "Namespace": "",
        "Type": "horizontal",
        "Target": {"Namespace": "default", "Job": "j", "Group": "g"},
        "Min": 2,
        "Max": 5,
        "Policy": {},
        "Enabled": True,
    }
    assert tg["Disconnect"] == {
        "LostAfter": 3_600_000_000_000,
        "Replace": True,
        "Reconcile": "best_score",
        "StopOnClientAfter": None,
    }
    assert tg["Volumes"]["data"]["Source"] == "shared"
    t = tg["Tasks"][0]
    assert (t["Vault"]["Env"], t["Vault"]["ChangeMode"]) == (True, "restart")
    assert t["Services"][0]["Name"] == "j-g-t"
    assert t["Services"][0]["Provider"] == "consul"
    assert t["Artifacts"][0]["RelativeDest"] == "local/"
