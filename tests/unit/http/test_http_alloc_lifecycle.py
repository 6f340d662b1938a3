"""``/v1/client/allocation/:id/{signal,restart,exec}`` over the in-memory fakes; exec runs a
real command through the websocket in Nomad's JSON frames."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
from http_fakes import FakeClient, FakeServer, web_job


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_signal_and_restart_reach_the_client(api: Any, client: FakeClient) -> None:
    client.make_alloc_dir("a1")
    resp = await api.post("/v1/client/allocation/a1/signal", json={"Task": "web", "Signal": "HUP"})
    assert (resp.status, await resp.json()) == (200, {})
    resp = await api.put("/v1/client/allocation/a1/signal", json={})
    assert resp.status == 200
    assert client.signals == [("a1", "web", "HUP"), ("a1", "", "SIGKILL")]
    resp = await api.post("/v1/client/allocation/a1/restart", json={"AllTasks": True})
    assert resp.status == 200
    resp = await api.post("/v1/client/allocation/a1/restart", json={"TaskName": "web"})
    assert client.restarts == [("a1", "", True), ("a1", "web", False)]


async def test_signal_and_restart_errors(api: Any, client: FakeClient) -> None:
    resp = await api.post("/v1/client/allocation/nope/signal", json={"Signal": "HUP"})
    assert resp.status == 404
    client.make_alloc_dir("a1")
    resp = await api.post("/v1/client/allocation/a1/restart", json={"TaskName": "stopped"})
    assert (resp.status, await resp.text()) == (400, "Task not running: task 'stopped' is dead\n")
    resp = await api.post("/v1/client/allocation/a1/restart", json={"AllTasks": "yes"})
    assert (resp.status, await resp.text()) == (400, "AllTasks must be true or false, got 'yes'\n")
    resp = await api.post("/v1/client/allocation/a1/signal", data=b"[1]")
    assert (resp.status, await resp.text()) == (400, "request body must be a JSON object\n")


async def run_exec(
    api: Any, alloc: str, command: list[str], frames: list[dict[str, Any]], tty: bool = False
) -> tuple[bytes, bytes, int | None, aiohttp.ClientWebSocketResponse]:
    query = {"task": "web", "command": json.dumps(command), "tty": str(tty).lower()}
    ws = await api.ws_connect(f"/v1/client/allocation/{alloc}/exec", params=query)
    for frame in frames:
        await ws.send_str(json.dumps(frame))
    out, err, code = b"", b"", None
    async for msg in ws:
        frame = json.loads(msg.data)
        out += base64.b64decode((frame.get("stdout") or {}).get("data", ""))
        err += base64.b64decode((frame.get("stderr") or {}).get("data", ""))
        if frame.get("exited"):
            code = frame["result"]["exit_code"]
    return out, err, code, ws


async def test_exec_streams_stdin_stdout_stderr_and_exit_code(api: Any, client: FakeClient) -> None:
    client.make_alloc_dir("a1")
    frames = [{}, {"stdin": {"data": b64(b"ping\n")}}, {"stdin": {"close": True}}]
    script = 'read line; echo "got $line"; echo "$NOMAD_TASK_NAME" >&2; exit 4'
    out, err, code, ws = await run_exec(api, "a1", ["/bin/sh", "-c", script], frames)
    assert (out, err, code) == (b"got ping\n", b"web\n", 4)
    assert ws.close_code == 1000


async def test_exec_with_a_tty_has_a_terminal_of_the_given_size(
    api: Any, client: FakeClient
) -> None:
    client.make_alloc_dir("a1")
    frames = [{"tty_size": {"height": 33, "width": 101}}, {"stdin": {"data": b64(b"go\n")}}]
    script = "read x; tty; stty size"
    out, _, code, _ = await run_exec(api, "a1", ["/bin/sh", "-c", script], frames, tty=True)
    assert code == 0
    lines = out.decode().replace("\r", "").split("\n")
    assert lines[0] == "go" and lines[1].startswith("/dev/pts/") and lines[2] == "33 101"


async def test_exec_failures_close_the_socket_with_the_reason(api: Any, client: FakeClient) -> None:
    client.make_alloc_dir("a1")
    _, _, code, ws = await run_exec(api, "nope", ["true"], [])
    assert code is None and ws.close_code == 1008
    query = {"task": "stopped", "command": '["true"]'}
    ws = await api.ws_connect("/v1/client/allocation/a1/exec", params=query)
    msg = await ws.receive()
    assert msg.type == aiohttp.WSMsgType.CLOSE
    assert (msg.data, msg.extra) == (1008, "Task not running: task 'stopped' is dead")
    _, _, code, ws = await run_exec(api, "a1", ["/no/such/program"], [])
    assert ws.close_code == 1011


async def test_exec_command_must_be_a_json_array(api: Any, client: FakeClient) -> None:
    client.make_alloc_dir("a1")
    resp = await api.get("/v1/client/allocation/a1/exec", params={"command": "ls -l"})
    assert resp.status == 400
    assert "JSON array of strings" in await resp.text()


async def test_exec_is_proxied_to_the_node_running_the_alloc(
    api: Any, server: FakeServer, tmp_path: Path
) -> None:
    from aiohttp.test_utils import TestServer

    from nomadic.http import build_app

    remote_client = FakeClient(tmp_path / "remote")
    remote = TestServer(build_app(None, remote_client, {}))
    await remote.start_server()
    try:
        server.add_node("remote", http_addr=f"127.0.0.1:{remote.port}")
        await api.put("/v1/jobs", json={"Job": web_job()})
        alloc = server.store.snapshot().allocs()[0]
        remote_client.make_alloc_dir(alloc.id)
        out, _, code, _ = await run_exec(api, alloc.id, ["/bin/sh", "-c", "pwd; exit 2"], [])
        assert (out.decode().strip(), code) == (str(tmp_path / "remote" / alloc.id), 2)
        resp = await api.post(f"/v1/client/allocation/{alloc.id}/signal", json={"Signal": "SIGHUP"})
        assert resp.status == 200
        assert remote_client.signals == [(alloc.id, "", "SIGHUP")]
        _, _, code, ws = await run_exec(api, alloc.id, ["/no/such/program"], [])
        assert (code, ws.close_code) == (None, 1011)
    finally:
        await remote.close()
