"""The environment a task runs with, and ``${...}`` interpolation, as Nomad's ``taskenv`` builds it.

Layers, later wins: the agent's own environment minus ``env.denylist`` (Nomad passes the host
environment to tasks), the ``NOMAD_*`` variables, then the task's ``env`` block (interpolated).
Interpolation understands ``${NOMAD_*}`` and any other variable of the task env,
``${env["X"]}``, ``${node.unique.id|unique.name|datacenter|class|pool|region}``,
``${attr.<k>}`` and ``${meta.<k>}``; anything it cannot resolve is left as written, as Nomad does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nomadic.structs import Allocation, Node, Task

from .allocdir import AllocDir

__all__ = ["DEFAULT_DENYLIST", "build_task_env", "interpolate", "interpolate_value"]

# Nomad's default client option env.denylist.
DEFAULT_DENYLIST = frozenset(
    {
        "CONSUL_TOKEN",
        "CONSUL_HTTP_TOKEN",
        "CONSUL_LICENSE",
        "NOMAD_TOKEN",
        "NOMAD_LICENSE",
        "VAULT_TOKEN",
        "VAULT_LICENSE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
    }
)

_VAR = re.compile(r"\$\{([^}]+)\}")
_ENV_INDEX = re.compile(r'^env\[\s*"([^"]+)"\s*\]$')
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def build_task_env(
    alloc: Allocation,
    task: Task,
    node: Node,
    alloc_dir: AllocDir,
    *,
    host_env: Mapping[str, str] | None = None,
    denylist: frozenset[str] = DEFAULT_DENYLIST,
) -> dict[str, str]:
    env = {k: v for k, v in (host_env or {}).items() if k not in denylist}
    env.update(nomad_vars(alloc, task, node, alloc_dir))
    for key, value in task.env.items():
        env[key] = interpolate(value, env, node)
    return env


def nomad_vars(alloc: Allocation, task: Task, node: Node, alloc_dir: AllocDir) -> dict[str, str]:
    job = alloc.job
    task_dir = alloc_dir.task(task.name)
    env = {
        "NOMAD_ALLOC_ID": alloc.id,
        "NOMAD_SHORT_ALLOC_ID": alloc.id[:8],
        "NOMAD_ALLOC_NAME": alloc.name,
        "NOMAD_ALLOC_INDEX": str(alloc.index()),
        "NOMAD_GROUP_NAME": alloc.task_group,
        "NOMAD_TASK_NAME": task.name,
        "NOMAD_NAMESPACE": alloc.namespace,
        "NOMAD_DC": node.datacenter,
        "NOMAD_ALLOC_DIR": str(alloc_dir.shared),
        "NOMAD_TASK_DIR": str(task_dir.local),
        "NOMAD_SECRETS_DIR": str(task_dir.secrets),
    }
    if job is not None:
        env["NOMAD_JOB_ID"] = job.id
        env["NOMAD_JOB_NAME"] = job.name or job.id
        env["NOMAD_REGION"] = job.region
        if job.parent_id:
            env["NOMAD_JOB_PARENT_ID"] = job.parent_id
    env.update(_resource_vars(alloc, task))
    env.update(_port_vars(alloc, node))
    env.update(_meta_vars(alloc, task))
    return env


def _resource_vars(alloc: Allocation, task: Task) -> dict[str, str]:
    allocated = alloc.allocated_resources.tasks.get(task.name)
    cpu = allocated.cpu.cpu_shares if allocated else task.resources.cpu
    memory = allocated.memory.memory_mb if allocated else task.resources.memory_mb
    memory_max = allocated.memory.memory_max_mb if allocated else task.resources.memory_max_mb
    env = {"NOMAD_CPU_LIMIT": str(cpu), "NOMAD_MEMORY_LIMIT": str(memory)}
    if memory_max:
        env["NOMAD_MEMORY_MAX_LIMIT"] = str(memory_max)
    if allocated and allocated.cpu.reserved_cores:
        env["NOMAD_CPU_CORES"] = ",".join(str(c) for c in allocated.cpu.reserved_cores)
    gpus = [
        i
        for d in (allocated.devices if allocated else [])
        if d.vendor == "nvidia"
        for i in d.device_ids
    ]
    if gpus:  # what Nomad's nvidia device plugin sets for the GPUs it reserved
        env["NVIDIA_VISIBLE_DEVICES"] = ",".join(gpus)
    return env


def _port_vars(alloc: Allocation, node: Node) -> dict[str, str]:
    default_ip = node.attributes.get("unique.network.ip-address", "127.0.0.1")
    env: dict[str, str] = {}
    shared = alloc.allocated_resources.shared
    ports = [(p.label, p.value, p.to, p.host_ip) for p in shared.ports]
    networks = list(shared.networks)
    for t in alloc.allocated_resources.tasks.values():
        networks += t.networks
    for net in networks:
        for p in net.reserved_ports + net.dynamic_ports:
            if p.label not in {label for label, *_ in ports}:
                ports.append((p.label, p.value, p.to, net.ip))
    for label, value, to, host_ip in ports:
        ip = host_ip or default_ip
        addr = f"[{ip}]:{value}" if ":" in ip else f"{ip}:{value}"
        env[f"NOMAD_HOST_IP_{label}"] = ip
        env[f"NOMAD_HOST_PORT_{label}"] = str(value)
        env[f"NOMAD_HOST_ADDR_{label}"] = addr
        env[f"NOMAD_IP_{label}"] = ip
        env[f"NOMAD_PORT_{label}"] = str(value)
        env[f"NOMAD_ADDR_{label}"] = addr
        env[f"NOMAD_ALLOC_PORT_{label}"] = str(to if to > 0 else value)
    return env


def _meta_vars(alloc: Allocation, task: Task) -> dict[str, str]:
    meta: dict[str, str] = {}
    if alloc.job is not None:
        meta.update(alloc.job.meta)
        group = alloc.job.lookup_task_group(alloc.task_group)
        if group is not None:
            meta.update(group.meta)
    meta.update(task.meta)
    env: dict[str, str] = {}
    for key, value in meta.items():
        clean = _UNSAFE.sub("_", key)
        env[f"NOMAD_META_{clean}"] = value  # Nomad sets the key as written ...
        env[f"NOMAD_META_{clean.upper()}"] = value  # ... and upper-cased
    return env


def interpolate(text: str, env: Mapping[str, str], node: Node) -> str:
    """Replace every resolvable ``${...}`` in ``text``."""

    def resolve(match: re.Match[str]) -> str:
        value = _lookup(match.group(1).strip(), env, node)
        return match.group(0) if value is None else value

    return _VAR.sub(resolve, text) if "${" in text else text


def interpolate_value(value: Any, env: Mapping[str, str], node: Node) -> Any:
    """Interpolate every string inside a task ``config`` value (dicts and lists recursively)."""
    if isinstance(value, str):
        return interpolate(value, env, node)
    if isinstance(value, list):
        return [interpolate_value(v, env, node) for v in value]
    if isinstance(value, dict):
        return {k: interpolate_value(v, env, node) for k, v in value.items()}
    return value


def _lookup(key: str, env: Mapping[str, str], node: Node) -> str | None:
    indexed = _ENV_INDEX.match(key)
    if indexed:
        return env.get(indexed.group(1))
    if key.startswith("env."):
        return env.get(key[4:])
    if key.startswith("attr."):
        return node.attributes.get(key[5:])
    if key.startswith("meta."):
        return node.meta.get(key[5:])
    if key.startswith("node."):
        return _node_value(key[5:], node)
    return env.get(key)


def _node_value(key: str, node: Node) -> str | None:
    values = {
        "unique.id": node.id,
        "unique.name": node.name,
        "datacenter": node.datacenter,
        "class": node.node_class,
        "pool": node.node_pool,
        "region": node.attributes.get("nomad.region"),
    }
    return values.get(key)
