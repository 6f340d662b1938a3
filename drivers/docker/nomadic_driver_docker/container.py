"""How a nomadic task becomes a docker container: the create arguments (mounts, ports,
limits, labels) and the threads that copy its logs into the client's log files.

Directory layout inside every container, as in Nomad: the shared alloc dir at ``/alloc``, the
task's ``local/`` at ``/local`` and ``secrets/`` at ``/secrets``. Ports come from the task's
environment (``NOMAD_HOST_PORT_<label>``, ``NOMAD_ALLOC_PORT_<label>``, ``NOMAD_HOST_IP_<label>``,
which the client derives from the ports the scheduler allocated): each label in ``ports`` is
published on its allocated host port, with the group network's ``to`` as the container port.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from typing import IO, Any

from nomadic.plugin import DriverError, TaskConfig

from .config import PluginConfig, TaskSpec

log = logging.getLogger("nomadic.driver.docker")

LABEL_ALLOC_ID = "com.hashicorp.nomad.alloc_id"
LABEL_TASK_NAME = "com.hashicorp.nomad.task_name"
LABEL_JOB_NAME = "com.hashicorp.nomad.job_name"
LABEL_TASK_GROUP = "com.hashicorp.nomad.task_group_name"
LABEL_NAMESPACE = "com.hashicorp.nomad.namespace"
LABEL_NODE_ID = "com.hashicorp.nomad.node_id"
MIN_CPU_SHARES = 2  # the kernel's floor for cpu.shares


def container_name(config: TaskConfig) -> str:
    """Nomad's ``<task>-<alloc ID>``; our task IDs add a suffix so restarts never collide."""
    suffix = config.id.rsplit("/", 1)[-1] if "/" in config.id else ""
    base = f"{config.name}-{config.alloc_id or config.id}"
    return f"{base}-{suffix}" if suffix else base


def create_args(config: TaskConfig, spec: TaskSpec, plugin: PluginConfig) -> dict[str, Any]:
    """Keyword arguments for ``client.api.create_container`` (host config included)."""
    if spec.privileged and not plugin.allow_privileged:
        raise DriverError(
            f"task {config.name!r}: privileged containers are disabled on this client; an "
            'operator can allow them with plugin "docker" { config { allow_privileged = true } }'
        )
    binds = _binds(config, spec, plugin)
    bindings = {} if spec.network_mode == "host" else _port_bindings(config, spec)
    memory_mb = spec.memory_hard_limit or config.memory_max_mb or config.memory_mb
    host_config: dict[str, Any] = {
        "binds": binds,
        "port_bindings": bindings,
        "cpu_shares": max(config.cpu_shares, MIN_CPU_SHARES) if config.cpu_shares else None,
        "privileged": spec.privileged,
        "init": spec.init or None,
        "mounts": _mounts(config, spec, plugin),
    }
    if memory_mb:
        host_config["mem_limit"] = f"{memory_mb}m"
        host_config["memswap_limit"] = f"{memory_mb}m"  # a hard limit: no swap beyond it
        if memory_mb > config.memory_mb > 0:
            host_config["mem_reservation"] = f"{config.memory_mb}m"
    if spec.network_mode:
        host_config["network_mode"] = spec.network_mode
    command = [spec.command, *spec.args] if spec.command else (spec.args or None)
    labels = dict(spec.labels)
    labels.update(
        {
            LABEL_ALLOC_ID: config.alloc_id,
            LABEL_TASK_NAME: config.name,
            LABEL_JOB_NAME: config.job_name,
            LABEL_TASK_GROUP: config.task_group_name,
            LABEL_NAMESPACE: config.namespace,
            LABEL_NODE_ID: config.node_id,
        }
    )
    # The host's PATH means nothing inside an image: keep the image's own.
    env = {k: v for k, v in config.env.items() if k != "PATH"}
    return {
        "image": spec.image,
        "command": command,
        "entrypoint": spec.entrypoint,
        "environment": env,
        "labels": labels,
        "working_dir": spec.work_dir or None,
        "hostname": spec.hostname or None,
        "name": container_name(config),
        "ports": [tuple(k.split("/")) for k in bindings] or None,
        "host_config_args": {k: v for k, v in host_config.items() if v not in (None, [], {})},
    }


def task_root(config: TaskConfig) -> str:
    """The task's own directory (``<alloc>/<task>``); ``TaskConfig.task_dir`` is its local/."""
    return os.path.dirname(config.task_dir.rstrip("/")) if config.task_dir else ""


def _binds(config: TaskConfig, spec: TaskSpec, plugin: PluginConfig) -> list[str]:
    binds = []
    root = task_root(config)
    standard = [
        (os.path.join(config.alloc_dir, "alloc"), "/alloc"),
        (config.task_dir, "/local"),
        (os.path.join(root, "secrets") if root else "", "/secrets"),
    ]
    for host, target in standard:
        if host and os.path.isdir(host):
            binds.append(f"{host}:{target}")
    for volume in spec.volumes:
        parts = volume.split(":")
        if len(parts) < 2:
            raise DriverError(
                f"task {config.name!r}: volume {volume!r} must be host_path:container_path[:ro]"
            )
        parts[0] = _host_path(config, parts[0], plugin, f"volume {volume!r}")
        binds.append(":".join(parts))
    # host volumes the operator configured (client host_volume) need no volumes.enabled
    for m in config.mounts:
        mode = "ro" if m.readonly else "rw"
        propagation = {"host-to-task": "rslave", "bidirectional": "rshared"}.get(
            m.propagation_mode, "rprivate"
        )
        binds.append(f"{m.host_path}:{m.task_path}:{mode},{propagation}")
    return binds


def _host_path(config: TaskConfig, source: str, plugin: PluginConfig, what: str) -> str:
    """Relative paths live in the task dir (always allowed, as in Nomad); absolute host
    paths need ``volumes { enabled = true }`` in the plugin config."""
    if not os.path.isabs(source):
        return os.path.normpath(os.path.join(task_root(config) or config.alloc_dir, source))
    if not plugin.volumes_enabled:
        raise DriverError(
            f"task {config.name!r}: {what} binds the host path {source}, but host volumes are "
            'disabled on this client; an operator can enable them with plugin "docker" '
            "{ config { volumes { enabled = true } } }, or use a path relative to the task dir"
        )
    return source


def _mounts(config: TaskConfig, spec: TaskSpec, plugin: PluginConfig) -> list[Any]:
    from docker.types import Mount as DockerMount

    mounts = []
    for m in spec.mounts:
        source = m.source
        if m.type == "bind":
            source = _host_path(config, source, plugin, f"mount at {m.target}")
        mounts.append(DockerMount(m.target, source or None, type=m.type, read_only=m.readonly))
    return mounts


def _port_bindings(config: TaskConfig, spec: TaskSpec) -> dict[str, tuple[str, int]]:
    bindings: dict[str, tuple[str, int]] = {}
    for label in spec.ports:
        host = config.env.get(f"NOMAD_HOST_PORT_{label}")
        if host is None:
            known = sorted(
                k.removeprefix("NOMAD_HOST_PORT_")
                for k in config.env
                if k.startswith("NOMAD_HOST_PORT_")
            )
            raise DriverError(
                f"task {config.name!r}: port {label!r} in config ports is not in the group's "
                f"network block (known ports: {', '.join(known) or 'none'}); add "
                f'network {{ port "{label}" {{ to = <container port> }} }}'
            )
        to = config.env.get(f"NOMAD_ALLOC_PORT_{label}", host)
        ip = config.env.get(f"NOMAD_HOST_IP_{label}", "")
        for proto in ("tcp", "udp"):
            bindings[f"{to}/{proto}"] = (ip, int(host))
    return bindings


def open_output(path: str) -> IO[bytes]:
    """A FIFO is opened read-write so writes never fail while the client's reader restarts;
    a regular file is appended to."""
    if not path:
        return open(os.devnull, "wb")
    try:
        is_fifo = stat.S_ISFIFO(os.stat(path).st_mode)
    except FileNotFoundError:
        is_fifo = False
    if is_fifo:
        return open(os.open(path, os.O_RDWR), "wb", buffering=0)
    return open(path, "ab", buffering=0)


class LogFollower:
    """Copies a container's stdout and stderr into the task's two log paths until it exits.

    One following ``logs`` call per stream: the daemon replays from ``since`` (container
    start, or the moment of recovery after a client restart) and ends the stream when the
    container stops, so the threads finish on their own.
    """

    def __init__(self, client: Any, container_id: str, config: TaskConfig, since: int) -> None:
        self.threads = [
            threading.Thread(
                target=self._follow,
                args=(client, container_id, path, stream, since),
                name=f"docker-logs-{container_id[:12]}-{stream}",
                daemon=True,
            )
            for stream, path in (("stdout", config.stdout_path), ("stderr", config.stderr_path))
        ]
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)

    @staticmethod
    def _follow(client: Any, container_id: str, path: str, stream: str, since: int) -> None:
        try:
            out = open_output(path)
        except OSError as exc:
            log.error("container %s: cannot open %s for %s: %s", container_id, path, stream, exc)
            return
        try:
            chunks = client.api.logs(
                container_id,
                stdout=stream == "stdout",
                stderr=stream == "stderr",
                stream=True,
                follow=True,
                since=since or None,
            )
            for chunk in chunks:
                out.write(chunk)
        except Exception as exc:  # the daemon went away or the container was removed
            log.info("container %s: %s log stream ended: %s", container_id[:12], stream, exc)
        finally:
            out.close()
