"""Log streaming across rotated files (plain and framed, offsets, follow) and the alloc fs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from http_fakes import FakeClient, FakeServer, web_job


def write_logs(alloc_dir: Path, task: str, kind: str, parts: list[bytes]) -> None:
    for n, data in enumerate(parts):
        (alloc_dir / "alloc" / "logs" / f"{task}.{kind}.{n}").write_bytes(data)


def frames(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


@pytest.fixture
def alloc_dir(client: FakeClient) -> Path:
    path = client.make_alloc_dir("a1")
    write_logs(path, "web", "stdout", [b"one\ntwo\n", b"three\n", b"four\n"])
    write_logs(path, "web", "stderr", [b"oops\n"])
    return path


async def test_plain_logs_read_rotated_files_in_order(api: Any, alloc_dir: Path) -> None:
    (alloc_dir / "alloc" / "logs" / "web.stdout.10").write_bytes(b"eleventh\n")
    resp = await api.get("/v1/client/fs/logs/a1?task=web&type=stdout&plain=true")
    assert resp.status == 200
    assert await resp.read() == b"one\ntwo\nthree\nfour\neleventh\n"
    resp = await api.get("/v1/client/fs/logs/a1?task=web&type=stderr&plain=true")
    assert await resp.read() == b"oops\n"


@pytest.mark.parametrize(
    ("origin", "offset", "expected"),
    [
        ("start", 0, b"one\ntwo\nthree\nfour\n"),
        ("start", 4, b"two\nthree\nfour\n"),
        ("start", 10, b"ree\nfour\n"),
        ("end", 5, b"four\n"),
        ("end", 11, b"three\nfour\n"),
        ("end", 1000, b"one\ntwo\nthree\nfour\n"),
    ],
    ids=["start", "start-in-first", "start-in-second", "end-last-file", "end-across", "end-all"],
)
async def test_offsets_span_files(
    api: Any, alloc_dir: Path, origin: str, offset: int, expected: bytes
) -> None:
    url = f"/v1/client/fs/logs/a1?task=web&plain=true&origin={origin}&offset={offset}"
    assert await (await api.get(url)).read() == expected


async def test_framed_logs_carry_file_offset_and_base64(api: Any, alloc_dir: Path) -> None:
    body = await (await api.get("/v1/client/fs/logs/a1?task=web&type=stdout")).read()
    got = frames(body)
    assert [f["File"] for f in got] == [
        "alloc/logs/web.stdout.0",
        "alloc/logs/web.stdout.1",
        "alloc/logs/web.stdout.2",
    ]
    assert [base64.b64decode(f["Data"]) for f in got] == [b"one\ntwo\n", b"three\n", b"four\n"]
    assert [f["Offset"] for f in got] == [8, 6, 5]


async def test_follow_picks_up_appends_and_rotation_then_ends(
    api: Any, server: FakeServer, client: FakeClient
) -> None:
    server.add_node()
    await api.put("/v1/jobs", json={"Job": web_job()})
    alloc = server.store.snapshot().allocs()[0]
    path = client.make_alloc_dir(alloc.id)
    write_logs(path, "server", "stdout", [b"first\n"])
    resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=server&follow=true&plain=true")
    assert await resp.content.readexactly(6) == b"first\n"
    with (path / "alloc/logs/server.stdout.0").open("ab") as f:
        f.write(b"appended\n")
    assert await asyncio.wait_for(resp.content.readexactly(9), 5) == b"appended\n"
    (path / "alloc/logs/server.stdout.1").write_bytes(b"rotated\n")
    assert await asyncio.wait_for(resp.content.readexactly(8), 5) == b"rotated\n"
    dead = msgspec.structs.replace(alloc, client_status="complete")
    with (path / "alloc/logs/server.stdout.1").open("ab") as f:
        f.write(b"last words\n")
    server.write(lambda i: server.store.update_allocs_from_client(i, [_update(dead)]))
    rest = await asyncio.wait_for(resp.content.read(), 5)
    assert rest == b"last words\n"


def _update(alloc: Any) -> Any:
    from nomadic.structs import AllocUpdate

    return AllocUpdate(
        id=alloc.id, client_status=alloc.client_status, task_states=alloc.task_states
    )


async def test_follow_waits_for_the_first_file(
    api: Any, server: FakeServer, client: FakeClient
) -> None:
    server.add_node()
    await api.put("/v1/jobs", json={"Job": web_job()})
    alloc = server.store.snapshot().allocs()[0]
    path = client.make_alloc_dir(alloc.id)
    resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=server&follow=true")
    write_logs(path, "server", "stdout", [b"hello\n"])
    line = await asyncio.wait_for(resp.content.readline(), 5)
    frame = json.loads(line)
    assert base64.b64decode(frame["Data"]) == b"hello\n"
    resp.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=stdout", "missing task name: add ?task=<task>\n"),
        ("task=web&type=stdin", 'invalid log type \'stdin\': use "stdout" or "stderr"\n'),
        ("task=web&origin=middle", 'invalid origin \'middle\': use "start" or "end"\n'),
        ("task=web&offset=x", "invalid offset 'x': must be an integer\n"),
    ],
    ids=["no-task", "bad-type", "bad-origin", "bad-offset"],
)
async def test_bad_log_params_are_400(api: Any, alloc_dir: Path, query: str, message: str) -> None:
    resp = await api.get(f"/v1/client/fs/logs/a1?{query}")
    assert (resp.status, await resp.text()) == (400, message)


async def test_unknown_task_is_400_naming_the_tasks(
    api: Any, server: FakeServer, client: FakeClient
) -> None:
    server.add_node()
    await api.put("/v1/jobs", json={"Job": web_job()})
    alloc = server.store.snapshot().allocs()[0]
    client.make_alloc_dir(alloc.id)
    resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=nope")
    assert (resp.status, await resp.text()) == (
        400,
        "unknown task name 'nope'; this allocation runs: server\n",
    )


async def test_logs_of_unknown_alloc_are_404(api: Any) -> None:
    resp = await api.get("/v1/client/fs/logs/zzz?task=web")
    assert resp.status == 404


async def test_ls_stat_cat(api: Any, alloc_dir: Path) -> None:
    (alloc_dir / "web" / "local").mkdir(parents=True)
    (alloc_dir / "web" / "local" / "index.html").write_text("<h1>hi</h1>")
    os.chmod(alloc_dir / "web" / "local" / "index.html", 0o644)
    listing = await (await api.get("/v1/client/fs/ls/a1?path=/")).json()
    assert [(e["Name"], e["IsDir"]) for e in listing] == [("alloc", True), ("web", True)]
    assert listing[0]["FileMode"].startswith("d")
    info = await (await api.get("/v1/client/fs/stat/a1?path=web/local/index.html")).json()
    assert info["Name"] == "index.html"
    assert info["Size"] == 11
    assert info["FileMode"] == "-rw-r--r--"
    assert info["ContentType"] == "text/html"
    assert info["ModTime"].endswith("Z")
    text = await (await api.get("/v1/client/fs/cat/a1?path=/web/local/index.html")).text()
    assert text == "<h1>hi</h1>"
    resp = await api.get("/v1/client/fs/stat/a1?path=web/missing")
    assert resp.status == 404


@pytest.mark.parametrize(
    "path",
    ["../", "../../etc/passwd", "/../a1/../..", "web/../../x"],
    ids=["up", "etc", "abs", "mid"],
)
async def test_paths_escaping_the_alloc_dir_are_refused(
    api: Any, alloc_dir: Path, path: str
) -> None:
    for verb in ("ls", "stat", "cat"):
        resp = await api.get(f"/v1/client/fs/{verb}/a1", params={"path": path})
        assert resp.status == 400, verb
        assert "outside the allocation directory" in await resp.text()


async def test_symlink_out_of_the_alloc_dir_is_refused(
    api: Any, alloc_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret").write_text("x")
    (alloc_dir / "link").symlink_to(tmp_path / "secret")
    resp = await api.get("/v1/client/fs/cat/a1?path=link")
    assert resp.status == 400


async def test_requests_for_allocs_on_other_nodes_are_proxied(
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
        path = remote_client.make_alloc_dir(alloc.id)
        write_logs(path, "server", "stdout", [b"from afar\n"])
        resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=server&plain=true")
        assert (resp.status, await resp.read()) == (200, b"from afar\n")
        resp = await api.get(f"/v1/client/fs/stat/{alloc.id}?path=alloc/logs/server.stdout.0")
        assert (await resp.json())["Size"] == 10
        resp = await api.get(f"/v1/client/allocation/{alloc.id}/stats")
        assert resp.status == 200
    finally:
        await remote.close()


async def test_unreachable_node_is_500_naming_it(api: Any, server: FakeServer) -> None:
    server.add_node("gone", http_addr="127.0.0.1:1")
    await api.put("/v1/jobs", json={"Job": web_job()})
    alloc = server.store.snapshot().allocs()[0]
    resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=server")
    assert resp.status == 500
    assert (await resp.text()).startswith(
        "cannot reach the allocation's node at http://127.0.0.1:1"
    )


async def test_proxied_follow_ends_when_the_alloc_completes(
    api: Any, server: FakeServer, tmp_path: Path
) -> None:
    from aiohttp.test_utils import TestServer

    from nomadic.http import build_app

    remote_client = FakeClient(tmp_path / "remote")
    remote = TestServer(build_app(None, remote_client, {}))  # a client-only node
    await remote.start_server()
    try:
        server.add_node("remote", http_addr=f"127.0.0.1:{remote.port}")
        await api.put("/v1/jobs", json={"Job": web_job()})
        alloc = server.store.snapshot().allocs()[0]
        path = remote_client.make_alloc_dir(alloc.id)
        write_logs(path, "server", "stdout", [b"one\n"])
        url = f"/v1/client/fs/logs/{alloc.id}?task=server&plain=true&follow=true"
        resp = await api.get(url)
        assert await asyncio.wait_for(resp.content.readexactly(4), 5) == b"one\n"
        with (path / "alloc/logs/server.stdout.0").open("ab") as f:
            f.write(b"two\n")
        done = msgspec.structs.replace(alloc, client_status="complete")
        server.write(lambda i: server.store.update_allocs_from_client(i, [_update(done)]))
        assert await asyncio.wait_for(resp.content.read(), 10) == b"two\n"
    finally:
        await remote.close()


async def test_follow_stops_when_the_reader_disconnects(
    api: Any, server: FakeServer, client: FakeClient
) -> None:
    from nomadic.http import logstream

    def awaiting(obj: Any) -> Iterator[str]:
        while obj is not None:
            code = getattr(obj, "cr_code", None) or getattr(obj, "ag_code", None)
            if code is not None:
                yield code.co_name
            obj = getattr(obj, "cr_await", None) or getattr(obj, "ag_await", None)

    def following() -> bool:
        names = {n for task in asyncio.all_tasks() for n in awaiting(task.get_coro())}
        return "fs_logs" in names

    server.add_node()
    await api.put("/v1/jobs", json={"Job": web_job()})
    alloc = server.store.snapshot().allocs()[0]
    path = client.make_alloc_dir(alloc.id)
    write_logs(path, "server", "stdout", [b"x\n"])
    resp = await api.get(f"/v1/client/fs/logs/{alloc.id}?task=server&follow=true&plain=true")
    assert await resp.content.readexactly(2) == b"x\n"
    assert following()
    resp.close()
    deadline = asyncio.get_running_loop().time() + 5
    while following():
        assert asyncio.get_running_loop().time() < deadline, "the follow handler kept running"
        await asyncio.sleep(logstream.POLL_INTERVAL)


async def test_fifos_are_listed_but_never_opened(api: Any, alloc_dir: Path) -> None:
    os.mkfifo(alloc_dir / "alloc" / "logs" / ".web.stdout.fifo")
    listing = await asyncio.wait_for(api.get("/v1/client/fs/ls/a1?path=alloc/logs"), 5)
    fifo = next(e for e in await listing.json() if e["Name"] == ".web.stdout.fifo")
    assert fifo["FileMode"].startswith("p")
    assert fifo["ContentType"] == ""
    resp = await asyncio.wait_for(
        api.get("/v1/client/fs/cat/a1?path=alloc/logs/.web.stdout.fifo"), 5
    )
    assert resp.status == 400
    logs = await asyncio.wait_for(api.get("/v1/client/fs/logs/a1?task=web&plain=true"), 5)
    assert await logs.read() == b"one\ntwo\nthree\nfour\n"
