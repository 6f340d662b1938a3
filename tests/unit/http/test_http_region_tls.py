"""Forwarding to another region's server over HTTPS: this agent dials with its own CA and
certificate, and the remote certificate must name ``server.<region>.nomad``."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from http_fakes import FakeServer, web_job

from nomadic.http import build_app
from nomadic.http.forward import PROXY_TLS
from nomadic.testing.tls import make_ca, make_cert
from nomadic.tlsutil import HTTPTLS


async def _forward_to_us(tmp_path: Path, us_cert_region: str) -> tuple[int, str, FakeServer]:
    ca = make_ca(tmp_path)
    eu_cert, us_cert = (
        make_cert(tmp_path, ca, "server", "eu"),
        make_cert(tmp_path, ca, "server", us_cert_region),
    )
    eu_tls = HTTPTLS.load(ca.cert_file, eu_cert.cert_file, eu_cert.key_file, True)
    # the us server requires a client certificate: eu must present its own
    us_tls = HTTPTLS.load(ca.cert_file, us_cert.cert_file, us_cert.key_file, True)
    us = FakeServer()
    us.region = "us"
    us_srv = TestServer(build_app(us, None, {"name": "us1"}))
    await us_srv.start_server(ssl=us_tls.server_context())
    eu = FakeServer()
    eu.region = "eu"
    eu.other_regions["us"] = [f"https://127.0.0.1:{us_srv.port}"]
    app = build_app(eu, None, {"name": "eu1"})
    app[PROXY_TLS] = eu_tls.proxy_tls()
    try:
        async with TestClient(TestServer(app)) as api:
            job = {**web_job("in-us"), "Region": "us"}
            resp = await api.put("/v1/jobs", json={"Job": job})
            return resp.status, await resp.text(), us
    finally:
        await us_srv.close()


async def test_job_for_another_region_is_forwarded_over_mutual_tls(tmp_path: Path) -> None:
    status, text, us = await _forward_to_us(tmp_path, "us")
    assert status == 200, text
    assert us.store.snapshot().job_by_id("default", "in-us") is not None


async def test_a_certificate_for_another_region_is_refused(tmp_path: Path) -> None:
    status, text, us = await _forward_to_us(tmp_path, "eu")
    assert status == 500
    assert 'No path to region "us"' in text
    assert "server.us.nomad" in text  # the hostname check that failed
    assert us.store.snapshot().job_by_id("default", "in-us") is None
