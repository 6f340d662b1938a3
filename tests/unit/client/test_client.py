"""The client against an in-memory server: register, heartbeat, run allocations, report."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nomadic.client import Client, ClientConfig
from nomadic.errors import NotFoundError
from nomadic.plugin import PluginManager, TaskDriver, hookimpl
from nomadic.structs import AllocUpdate
from nomadic.structs.consts import SECOND

from .fakes import FakeServer, eventually, make_alloc


def final(server: FakeServer, alloc_id: str, status: str) -> AllocUpdate | None:
    mine = [u for u in server.updates if u.id == alloc_id]
    return mine[-1] if mine and mine[-1].client_status == status else None


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def make_client(tmp_path: Path, server: FakeServer, plugins: PluginManager | None = None) -> Client:
    if plugins is None:
        plugins = PluginManager()
        plugins.load_entry_points()
    config = ClientConfig(
        data_dir=str(tmp_path / "client"),
        node_name="test-node",
        dev_mode=True,
        plugin_configs={"raw_exec": {"enabled": True}},
        max_kill_timeout=2 * SECOND,
    )
    return Client(config, server, plugins)


@pytest.fixture
async def client(tmp_path: Path, server: FakeServer) -> AsyncIterator[Client]:
    c = make_client(tmp_path, server)
    await c.start()
    await eventually(lambda: server.heartbeats, "the first heartbeat")
    yield c
    await c.shutdown()


async def test_registers_ready_node_with_raw_exec(client: Client, server: FakeServer) -> None:
    node = server.nodes[client.node_id]
    assert node.name == "test-node"
    assert node.drivers["raw_exec"].healthy
    assert node.attributes["driver.raw_exec"] == "1"
    assert node.attributes["unique.network.ip-address"] == "127.0.0.1"
    assert int(node.attributes["cpu.totalcompute"]) > 0
    assert node.node_resources.memory.memory_mb > 0
    assert node.computed_class.startswith("v1:")
    assert server.heartbeats[0] == (client.node_id, "ready")


async def test_batch_echo_completes_with_output_in_logs(client: Client, server: FakeServer) -> None:
    alloc = make_alloc(client.node_id, {"command": "/bin/echo", "args": ["hello"]})
    server.add_alloc(alloc)
    update = await eventually(lambda: final(server, alloc.id, "complete"), "alloc complete")
    state = update.task_states["hello"]
    assert state.state == "dead" and not state.failed
    assert [e.type for e in state.events] == ["Received", "Task Setup", "Started", "Terminated"]
    log = client.alloc_dir(alloc.id) / "alloc" / "logs" / "hello.stdout.0"
    await eventually(lambda: log.exists() and "hello" in log.read_text(), "hello in the log")


async def test_unknown_driver_fails_alloc_without_harming_the_agent(
    client: Client, server: FakeServer
) -> None:
    alloc = make_alloc(client.node_id, {"command": "true"}, driver="no-such-driver")
    server.add_alloc(alloc)
    update = await eventually(lambda: final(server, alloc.id, "failed"), "alloc failed")
    events = update.task_states["hello"].events
    failure = next(e for e in events if e.type == "Driver Failure")
    assert "no-such-driver" in failure.display_message
    assert events[-1].type == "Not Restarting"
    ok = make_alloc(client.node_id, {"command": "/bin/true"})
    server.add_alloc(ok)
    await eventually(lambda: final(server, ok.id, "complete"), "a later alloc to complete")


async def test_server_stop_kills_the_task(client: Client, server: FakeServer) -> None:
    alloc = make_alloc(
        client.node_id, {"command": "/bin/sleep", "args": ["600"]}, job_type="service"
    )
    server.add_alloc(alloc)
    await eventually(lambda: final(server, alloc.id, "running"), "alloc running")
    stopped = copy.deepcopy(server.allocs[alloc.id])
    stopped.desired_status = "stop"
    stopped.alloc_modify_index += 1
    server.add_alloc(stopped)
    update = await eventually(lambda: final(server, alloc.id, "complete"), "alloc complete")
    types = [e.type for e in update.task_states["hello"].events]
    assert types[-3:] == ["Killing", "Terminated", "Killed"]


async def test_alloc_stats_and_unknown_alloc(client: Client, server: FakeServer) -> None:
    alloc = make_alloc(
        client.node_id, {"command": "/bin/sleep", "args": ["600"]}, job_type="service"
    )
    server.add_alloc(alloc)
    await eventually(lambda: final(server, alloc.id, "running"), "alloc running")
    stats = await client.alloc_stats(alloc.id)
    assert stats["Tasks"]["hello"]["ResourceUsage"]["MemoryStats"]["RSS"] > 0
    assert stats["ResourceUsage"]["MemoryStats"]["RSS"] > 0
    with pytest.raises(NotFoundError):
        await client.alloc_stats("nope")
    with pytest.raises(NotFoundError):
        client.alloc_dir("nope")
    assert client.host_stats()["Memory"]["Total"] > 0


async def test_reregisters_when_server_forgets_node(tmp_path: Path, server: FakeServer) -> None:
    server.ttl = SECOND // 20
    c = make_client(tmp_path, server)
    await c.start()
    try:
        await eventually(lambda: server.heartbeats, "first heartbeat")
        server.nodes.clear()  # e.g. a new cluster that never saw this node
        await eventually(lambda: server.registrations == 2, "registration again")
        count = len(server.heartbeats)
        await eventually(lambda: len(server.heartbeats) > count, "heartbeats to resume")
    finally:
        await c.shutdown()


async def test_registration_retries_until_a_server_answers(
    tmp_path: Path, server: FakeServer
) -> None:
    server.fail_register = 1
    c = make_client(tmp_path, server)
    await c.start()
    try:
        await eventually(lambda: server.registrations == 1, "registration after a retry")
    finally:
        await c.shutdown()


async def test_dev_shutdown_leaves_no_running_task(client: Client, server: FakeServer) -> None:
    alloc = make_alloc(
        client.node_id, {"command": "/bin/sleep", "args": ["600"]}, job_type="service"
    )
    server.add_alloc(alloc)
    await eventually(lambda: final(server, alloc.id, "running"), "alloc running")
    runner = client.runners[alloc.id].tasks["hello"]
    assert runner.handle is not None
    pid = int(runner.handle.driver_state["pid"])
    await client.shutdown()
    import psutil

    await eventually(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie",
        "the task to be killed on shutdown",
    )


class _Broken:
    @hookimpl
    def nomadic_register_drivers(self) -> list[type[TaskDriver]]:
        raise RuntimeError("boom")


async def test_broken_plugin_listed_as_undetected(tmp_path: Path, server: FakeServer) -> None:
    plugins = PluginManager()
    plugins.load_entry_points()
    plugins.register(_Broken(), "broken")
    c = make_client(tmp_path, server, plugins)
    await c.start()
    try:
        node = await eventually(lambda: server.nodes.get(c.node_id), "registration")
        assert node.drivers["broken"].detected is False
        assert "boom" in node.drivers["broken"].health_description
        assert node.drivers["raw_exec"].healthy
    finally:
        await c.shutdown()


async def test_restarted_client_reattaches_to_running_task(
    tmp_path: Path, server: FakeServer
) -> None:
    first = make_client(tmp_path, server)
    first.config.kill_tasks_on_shutdown = False  # a real client keeps tasks across restarts
    await first.start()
    script = "while true; do echo tick; sleep 0.05; done"
    alloc = make_alloc(
        first.node_id, {"command": "/bin/sh", "args": ["-c", script]}, job_type="service"
    )
    server.add_alloc(alloc)
    await eventually(lambda: final(server, alloc.id, "running"), "alloc running")
    handle = first.runners[alloc.id].tasks["hello"].handle
    assert handle is not None
    pid = int(handle.driver_state["pid"])
    await first.shutdown()

    import psutil

    assert psutil.Process(pid).status() != "zombie"  # the task outlived its client
    log = first.alloc_dir(alloc.id) / "alloc" / "logs" / "hello.stdout.0"
    size = log.stat().st_size

    second = make_client(tmp_path, server)
    await second.start()
    try:
        assert second.node_id == first.node_id
        runner = await eventually(lambda: second.runners.get(alloc.id), "restored runner")
        task = runner.tasks["hello"]
        await eventually(lambda: task.state.state == "running" and task.handle, "recovered")
        await eventually(lambda: log.stat().st_size > size + 100, "logs to keep flowing")
        assert task.handle is not None and task.handle.driver_state["pid"] == pid
        stopped = copy.deepcopy(server.allocs[alloc.id])
        stopped.desired_status = "stop"
        stopped.alloc_modify_index += 1
        server.add_alloc(stopped)
        await eventually(lambda: final(server, alloc.id, "complete"), "alloc complete")
        await eventually(
            lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie",
            "the recovered task to be killed",
        )
    finally:
        await second.shutdown()
