"""Docker-specific behaviour against a real dockerd: ports, mounts, limits, policy refusals,
image errors, container removal and an unreachable daemon."""

from __future__ import annotations

import os
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest
from docker_env import IMAGE, REASON
from nomadic_driver_docker import DockerDriver

from nomadic.errors import ConfigError, DriverError
from nomadic.plugin import MountConfig, PluginManager, TaskConfig
from nomadic.testing.agent_process import free_port

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON)


def make_driver(**config: object) -> DockerDriver:
    driver = DockerDriver()
    driver.set_config({"gc": {"image": False}, **config})
    return driver


def task(tmp_path: Path, config: dict[str, object], **env: str) -> TaskConfig:
    alloc = tmp_path / "alloc"
    for d in (alloc / "alloc", alloc / "t" / "local", alloc / "t" / "secrets"):
        d.mkdir(parents=True, exist_ok=True)
    return TaskConfig(
        id=f"{uuid.uuid4()}/t/{uuid.uuid4().hex[:8]}",
        name="t",
        alloc_id=str(uuid.uuid4()),
        env=env,
        memory_mb=64,
        cpu_shares=100,
        alloc_dir=str(alloc),
        task_dir=str(alloc / "t" / "local"),
        stdout_path=str(tmp_path / "stdout"),
        stderr_path=str(tmp_path / "stderr"),
        config={"image": IMAGE, **config},
    )


def run(driver: DockerDriver, cfg: TaskConfig) -> str:
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 30)
    assert result is not None, "task did not finish"
    out = Path(cfg.stdout_path).read_text()
    assert result.successful(), (result, out, Path(cfg.stderr_path).read_text())
    driver.destroy_task(cfg.id)
    return out


def test_entry_point_registers_docker() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["docker"] is DockerDriver


def test_fingerprint_reports_version() -> None:
    fp = make_driver().fingerprint()
    assert fp.attributes["driver.docker"] == "1"
    assert fp.attributes["driver.docker.version"] == docker.from_env().version()["Version"]
    assert fp.attributes["driver.docker.privileged.enabled"] == "false"


def test_unreachable_daemon_is_detected_but_unhealthy(tmp_path: Path) -> None:
    driver = make_driver(endpoint=f"unix://{tmp_path}/no-such.sock")
    fp = driver.fingerprint()
    assert (fp.detected, fp.healthy) == (True, False)
    assert "Failed to connect to docker daemon" in fp.health_description


def test_unknown_plugin_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="allow_privilegd"):
        DockerDriver().set_config({"allow_privilegd": True})


def test_alloc_local_and_secrets_dirs_are_mounted(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "sh", "args": ["-c", "ls -d /alloc /local /secrets"]})
    (Path(cfg.task_dir) / "hello.txt").write_text("hi")
    out = run(make_driver(), cfg)
    assert out.split() == ["/alloc", "/local", "/secrets"]


def test_env_labels_and_work_dir(tmp_path: Path) -> None:
    cfg = task(
        tmp_path,
        {
            "command": "sh",
            "args": ["-c", 'echo "$GREETING"; pwd'],
            "work_dir": "/local",
            "labels": [{"team": "core"}],
        },
        GREETING="hello",
    )
    driver = make_driver()
    handle = driver.start_task(cfg)
    container = docker.from_env().containers.get(handle.driver_state["container_id"])
    assert container.labels["team"] == "core"
    assert container.labels["com.hashicorp.nomad.alloc_id"] == cfg.alloc_id
    assert driver.wait_task(cfg.id, 30) is not None
    assert Path(cfg.stdout_path).read_text().split() == ["hello", "/local"]
    driver.destroy_task(cfg.id)


def test_memory_limit_and_cpu_shares_apply(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "sleep", "args": ["30"], "init": True})
    driver = make_driver()
    handle = driver.start_task(cfg)
    try:
        host = docker.from_env().api.inspect_container(handle.driver_state["container_id"])
        assert host["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert host["HostConfig"]["CpuShares"] == 100
    finally:
        driver.destroy_task(cfg.id, force=True)


def test_allocated_port_is_published_to_the_container_port(tmp_path: Path) -> None:
    port = free_port()
    cfg = task(
        tmp_path,
        {"command": "httpd", "args": ["-f", "-p", "8080", "-h", "/local"], "ports": ["http"]},
        NOMAD_HOST_PORT_http=str(port),
        NOMAD_ALLOC_PORT_http="8080",
        NOMAD_HOST_IP_http="127.0.0.1",
    )
    (Path(cfg.task_dir) / "index.html").write_text("served from docker\n")
    driver = make_driver()
    driver.start_task(cfg)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert body == b"served from docker\n"
    finally:
        driver.destroy_task(cfg.id, force=True)


def test_unknown_port_label_names_the_known_ones(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "true", "ports": ["web"]}, NOMAD_HOST_PORT_http="8000")
    with pytest.raises(DriverError, match=r"port 'web'.*known ports: http"):
        make_driver().start_task(cfg)


def test_privileged_is_refused_unless_allowed(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "true", "privileged": True})
    with pytest.raises(DriverError, match="allow_privileged = true"):
        make_driver().start_task(cfg)
    allowed = make_driver(allow_privileged=True)
    assert allowed.fingerprint().attributes["driver.docker.privileged.enabled"] == "true"
    try:  # some hosts (nested containers) cannot grant every capability: dockerd says so
        run(allowed, cfg)
    except DriverError as exc:
        assert "allow_privileged" not in str(exc) and "starting the container" in str(exc)


def test_host_volumes_need_plugin_permission(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "f").write_text("from host\n")
    cfg = task(tmp_path, {"command": "cat", "args": ["/data/f"], "volumes": [f"{shared}:/data"]})
    with pytest.raises(DriverError, match="volumes"):
        make_driver().start_task(cfg)
    out = run(make_driver(volumes=[{"enabled": True}]), cfg)
    assert out == "from host\n"


def test_relative_volume_and_mount_live_in_the_task_dir(tmp_path: Path) -> None:
    cfg = task(
        tmp_path,
        {
            "command": "sh",
            "args": ["-c", "echo one > /vol/a; echo two > /mnt/b; mount | grep -c /tmpfs"],
            "volumes": ["data:/vol"],
            "mount": [
                {"type": "bind", "source": "local", "target": "/mnt"},
                {"type": "tmpfs", "target": "/tmpfs"},
            ],
        },
    )
    (Path(cfg.task_dir).parent / "data").mkdir()
    out = run(make_driver(), cfg)
    assert out.strip() == "1"
    assert (Path(cfg.task_dir).parent / "data" / "a").read_text() == "one\n"
    assert (Path(cfg.task_dir) / "b").read_text() == "two\n"


def test_missing_image_without_registry_is_a_clear_error(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"image": "127.0.0.1:1/nomadic/none:1", "command": "true"})
    with pytest.raises(DriverError, match="not present on this node and pulling it failed"):
        make_driver().start_task(cfg)


def test_load_image_from_a_tarball_in_the_task_dir(tmp_path: Path) -> None:
    client = docker.from_env()
    tag = f"nomadic/loaded:{uuid.uuid4().hex[:8]}"
    client.images.get(IMAGE).tag(tag)
    cfg = task(tmp_path, {"image": tag, "load": "image.tar", "command": "echo", "args": ["ok"]})
    with open(os.path.join(cfg.task_dir, "image.tar"), "wb") as f:
        for chunk in client.images.get(tag).save(named=tag):
            f.write(chunk)
    client.images.remove(tag)
    try:
        assert run(make_driver(), cfg) == "ok\n"
    finally:
        client.images.remove(tag, force=True)


def test_destroy_removes_the_container(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "true"})
    driver = make_driver()
    handle = driver.start_task(cfg)
    assert driver.wait_task(cfg.id, 30) is not None
    driver.destroy_task(cfg.id)
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().containers.get(handle.driver_state["container_id"])


def test_oom_kill_is_reported(tmp_path: Path) -> None:
    cfg = task(
        tmp_path, {"command": "sh", "args": ["-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a)"]}
    )
    cfg.memory_mb = 16
    driver = make_driver()
    driver.start_task(cfg)
    result = driver.wait_task(cfg.id, 60)
    driver.destroy_task(cfg.id, force=True)
    assert result is not None and result.oom_killed and not result.successful()


def test_interactive_exec_streams_stdin_and_output(tmp_path: Path) -> None:
    from nomadic.plugin import ExecInput, ExecStreams

    cfg = task(tmp_path, {"command": "sleep", "args": ["60"], "init": True})
    driver = make_driver()
    driver.start_task(cfg)
    out: list[bytes] = []
    err: list[bytes] = []
    streams = ExecStreams(out.append, err.append)
    streams.put_input(ExecInput(data=b"from stdin\n"))
    streams.put_input(ExecInput(close=True))
    try:
        result = driver.exec_task_streaming(
            cfg.id, ["sh", "-c", "cat; echo oops >&2; exit 4"], False, streams
        )
    finally:
        driver.destroy_task(cfg.id, force=True)
    assert result.exit_code == 4
    assert b"".join(out) == b"from stdin\n" and b"".join(err) == b"oops\n"


def test_image_gc_removes_a_loaded_image_after_its_delay(tmp_path: Path) -> None:
    client = docker.from_env()
    tag = f"nomadic/gc:{uuid.uuid4().hex[:8]}"
    client.images.get(IMAGE).tag(tag)
    cfg = task(tmp_path, {"image": tag, "load": "image.tar", "command": "true"})
    with open(os.path.join(cfg.task_dir, "image.tar"), "wb") as f:
        for chunk in client.images.get(tag).save(named=tag):
            f.write(chunk)
    client.images.remove(tag)
    driver = DockerDriver()
    driver.set_config({"gc": [{"image": True, "image_delay": "200ms"}]})
    try:
        run(driver, cfg)

        def gone() -> bool:
            try:
                client.images.get(tag)
            except docker.errors.ImageNotFound:
                return True
            return False

        deadline = time.monotonic() + 20
        while not gone():
            assert time.monotonic() < deadline, f"image {tag} was not collected"
            time.sleep(0.05)
        assert client.images.get(IMAGE)  # the shared layers' other tag is untouched
    finally:
        if not gone():
            client.images.remove(tag, force=True)


def test_gc_container_false_keeps_the_stopped_container(tmp_path: Path) -> None:
    cfg = task(tmp_path, {"command": "true"})
    driver = make_driver(gc={"container": False})
    handle = driver.start_task(cfg)
    assert driver.wait_task(cfg.id, 30) is not None
    driver.destroy_task(cfg.id)
    container = docker.from_env().containers.get(handle.driver_state["container_id"])
    assert container.status == "exited"
    container.remove()


def test_host_volume_mounts_are_bound_read_write_and_read_only(tmp_path: Path) -> None:
    """Client host volumes arrive as ``TaskConfig.mounts``: bound without volumes.enabled."""
    data, conf = tmp_path / "data", tmp_path / "conf"
    data.mkdir()
    conf.mkdir()
    (conf / "app.conf").write_text("port=8080\n")
    cfg = task(
        tmp_path,
        {
            "command": "sh",
            "args": ["-c", "cat /etc/app/app.conf; echo hi > /data/out; touch /etc/app/x || :"],
        },
    )
    cfg.mounts = [
        MountConfig(task_path="/data", host_path=str(data)),
        MountConfig(task_path="/etc/app", host_path=str(conf), readonly=True),
    ]
    assert run(make_driver(), cfg) == "port=8080\n"
    assert (data / "out").read_text() == "hi\n"
    assert not (conf / "x").exists()
