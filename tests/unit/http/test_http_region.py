"""Requests for another region are proxied to a server there; its answer comes back as is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from http_fakes import FakeServer, web_job

from nomadic.http import build_app
from nomadic.http.region import region_for_job


@pytest.mark.parametrize(
    ("job_region", "multi", "query", "api", "expect"),
    [
        pytest.param("", [], "", "", ("eu", "eu"), id="nothing-is-this-agent"),
        pytest.param("global", [], "", "", ("eu", "eu"), id="global-is-this-agent"),
        pytest.param("us", [], "", "", ("us", "us"), id="job-region"),
        pytest.param("us", [], "eu", "", ("eu", "eu"), id="query-wins"),
        pytest.param("us", [], "", "ap", ("ap", "ap"), id="body-region-over-job"),
        pytest.param("", ["us", "ap"], "", "", ("us", "global"), id="multi-first-region"),
        pytest.param("", ["us", "eu"], "", "", ("eu", "global"), id="multi-listed-agent"),
    ],
)
def test_region_for_job(
    job_region: str, multi: list[str], query: str, api: str, expect: tuple[str, str]
) -> None:
    got = region_for_job(job_region, multi, query_region=query, api_region=api, agent_region="eu")
    assert got == expect


@pytest.fixture
async def us() -> AsyncIterator[tuple[FakeServer, TestServer]]:
    remote = FakeServer()
    remote.region = "us"
    srv = TestServer(build_app(remote, None, {"name": "us1"}))
    await srv.start_server()
    try:
        yield remote, srv
    finally:
        await srv.close()


@pytest.fixture
def federated(server: FakeServer, us: tuple[FakeServer, TestServer]) -> FakeServer:
    server.region = "eu"
    # a dead server of "us" first: the proxy moves on to the live one
    server.other_regions["us"] = ["127.0.0.1:1", f"127.0.0.1:{us[1].port}"]
    return server


async def test_job_with_region_us_registers_in_us(
    api: Any, federated: FakeServer, us: tuple[FakeServer, TestServer]
) -> None:
    job = {**web_job("in-us"), "Region": "us"}
    resp = await api.put("/v1/jobs", json={"Job": job})
    assert resp.status == 200, await resp.text()
    assert "X-Nomad-Index" in resp.headers
    assert us[0].store.snapshot().job_by_id("default", "in-us") is not None
    assert federated.store.snapshot().job_by_id("default", "in-us") is None
    # -region us reads from eu's agent are answered by us
    resp = await api.get("/v1/job/in-us", params={"region": "us"})
    assert resp.status == 200
    assert (await resp.json())["ID"] == "in-us"
    assert (await api.get("/v1/job/in-us")).status == 404


async def test_plan_of_a_job_for_us_is_planned_in_us(
    api: Any, federated: FakeServer, us: tuple[FakeServer, TestServer]
) -> None:
    job = {**web_job("plan-us"), "Region": "us"}
    resp = await api.put("/v1/job/plan-us/plan", json={"Job": job})
    assert resp.status == 200, await resp.text()
    assert us[0].planned == ["plan-us"] and federated.planned == []


async def test_unknown_region_is_a_clear_500(api: Any, federated: FakeServer) -> None:
    resp = await api.get("/v1/jobs", params={"region": "mars"})
    assert resp.status == 500
    assert (await resp.text()).startswith('No path to region "mars"')


async def test_agent_endpoints_and_regions_are_never_forwarded(
    api: Any, federated: FakeServer
) -> None:
    resp = await api.get("/v1/regions", params={"region": "mars"})
    assert await resp.json() == ["eu", "us"]
    resp = await api.put("/v1/agent/join", params={"address": "10.0.0.9:4647"})
    assert await resp.json() == {"num_joined": 1, "error": ""}
    assert federated.joined == ["10.0.0.9:4647"]


async def test_request_forwarded_once_is_not_forwarded_again(
    api: Any, federated: FakeServer
) -> None:
    resp = await api.get(
        "/v1/jobs", params={"region": "us"}, headers={"X-Nomadic-Region-Forwarded": "1"}
    )
    assert resp.status == 500
    assert 'forwarded to region "eu" instead' in await resp.text()
