"""The API client: decoding into structs, errors, blocking queries, log streaming, env vars."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from cli_agent import Agent
from http_fakes import web_job

from nomadic.api import APIError, Client
from nomadic.structs import Evaluation, Job, JobListStub, from_builtins


def register(client: Client, job_id: str = "web") -> str:
    job = from_builtins(web_job(job_id), Job)
    resp = client.jobs.register(job)
    return resp.eval_id


def test_register_list_info_roundtrip(agent: Agent) -> None:
    agent.server.add_node()
    with Client(agent.address) as client:
        eval_id = register(client)
        stubs = client.jobs.list()
        assert isinstance(stubs[0], JobListStub)
        assert [s.id for s in stubs] == ["web"]
        job = client.jobs.info("web")
        assert job.task_groups[0].tasks[0].resources.memory_mb == 64
        ev = client.evaluations.info(eval_id)
        assert isinstance(ev, Evaluation) and ev.status == "complete"
        allocs = client.jobs.allocations("web")
        assert client.allocations.info(allocs[0].id).job_id == "web"
        assert client.evaluations.allocations(eval_id)[0].id == allocs[0].id
        assert client.jobs.summary("web").summary["web"].running == 1
        assert [v.version for v in client.jobs.versions("web")] == [0]
        assert client.nodes.list()[0].status == "ready"
        assert client.status.leader() == "127.0.0.1:4647"
        assert client.status.regions() == ["global"]
        assert client.agent.members().server_dc == "dc1"
        resp = client.jobs.deregister("web", purge=True)
        assert resp.eval_id
        with pytest.raises(APIError) as err:
            client.jobs.info("web")
        assert (err.value.status, err.value.message) == (404, "job not found")


def test_validate(agent: Agent) -> None:
    bad = from_builtins(web_job(), Job)
    bad.task_groups[0].count = -1
    with Client(agent.address) as client:
        resp = client.jobs.validate(bad)
    assert resp.validation_errors == ["group 'web': count -1 must not be negative"]


def test_unreachable_agent_is_status_0(unused_tcp_port: int) -> None:
    with Client(f"127.0.0.1:{unused_tcp_port}") as client, pytest.raises(APIError) as err:
        client.jobs.list()
    assert err.value.status == 0
    assert "is a nomadic agent running there?" in str(err.value)


def test_blocking_query_returns_when_the_index_moves(agent: Agent) -> None:
    with Client(agent.address) as client:
        client.jobs.list()
        index = client.last_meta.last_index
        assert client.last_meta.known_leader
        timer = threading.Timer(0.2, lambda: register(Client(agent.address), "late"))
        timer.start()
        start = time.monotonic()
        stubs = client.jobs.list(index=index, wait=10)
        timer.join()
    assert time.monotonic() - start < 5
    assert [s.id for s in stubs] == ["late"]
    assert client.last_meta.last_index > index


def test_blocking_query_times_out(agent: Agent) -> None:
    with Client(agent.address) as client:
        client.jobs.list()
        index = client.last_meta.last_index
        start = time.monotonic()
        assert client.jobs.list(index=index, wait=0.3) == []
    assert 0.3 <= time.monotonic() - start < 3


def test_log_stream_and_fs(agent: Agent) -> None:
    root = agent.client.make_alloc_dir("a1")
    (root / "alloc" / "logs" / "web.stdout.0").write_bytes(b"abc\n")
    (root / "alloc" / "logs" / "web.stdout.1").write_bytes(b"def\n")
    with Client(agent.address) as client:
        assert b"".join(client.fs.logs("a1", "web")) == b"abc\ndef\n"
        assert b"".join(client.fs.logs("a1", "web", origin="end", offset=2)) == b"f\n"
        assert [f.name for f in client.fs.ls("a1", "alloc/logs")] == [
            "web.stdout.0",
            "web.stdout.1",
        ]
        assert client.fs.stat("a1", "alloc/logs/web.stdout.0").size == 4
        assert client.fs.cat("a1", "alloc/logs/web.stdout.1") == b"def\n"
        with pytest.raises(APIError) as err:
            list(client.fs.logs("nope", "web"))
        assert err.value.status == 404


def test_env_selects_address_region_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMAD_ADDR", "http://10.0.0.1:4646/")
    monkeypatch.setenv("NOMAD_REGION", "eu")
    monkeypatch.setenv("NOMAD_TOKEN", "secret")
    client = Client()
    assert (client.address, client.region, client.token) == ("http://10.0.0.1:4646", "eu", "secret")
    client.close()
    monkeypatch.delenv("NOMAD_ADDR")
    with Client() as default:
        assert default.address == "http://127.0.0.1:4646"


def test_cli_and_api_import_without_the_server_stack() -> None:
    code = (
        "import sys\n"
        "from nomadic.cli.main import cli\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(cli, ['job', 'status', '--help'])\n"
        "import nomadic.api\n"
        "heavy = [m for m in ('aiohttp', 'pysyncobj', 'hcl2', 'nomadic.server', 'lark')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "[]"


def test_public_surface() -> None:
    import nomadic.api

    assert sorted(nomadic.api.__all__) == [
        "APIError",
        "Client",
        "DEFAULT_ADDRESS",
        "QueryMeta",
        "TLSConfig",
    ]
    assert str(APIError(404, "job not found\n")) == "Unexpected response code: 404 (job not found)"
