"""The docker driver's two configs: the agent's ``plugin "docker" { config {} }`` block and a
task's ``config {}`` block, validated into plain records with errors that name the key.

HCL blocks arrive as lists of maps (``gc { image = true }`` -> ``{"gc": [{"image": True}]}``)
and JSON jobs may send either shape, so every block is read through :func:`_block`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nomadic.plugin import ConfigError, DriverError

__all__ = ["Mount", "PluginConfig", "TaskSpec", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

PLUGIN_KEYS = {"endpoint", "allow_privileged", "volumes", "gc", "extra_labels"}
GC_KEYS = {"image", "image_delay", "container"}
TASK_KEYS = {
    "image",
    "load",
    "force_pull",
    "command",
    "args",
    "entrypoint",
    "ports",
    "labels",
    "volumes",
    "mount",
    "network_mode",
    "privileged",
    "work_dir",
    "hostname",
    "memory_hard_limit",
    "init",
}


def parse_duration(text: Any, where: str) -> float:
    """Go duration text (``"3m"``, ``"1h30m"``, ``"500ms"``) -> seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text) / 1e9  # JSON sends nanoseconds
    if isinstance(text, str):
        parts = _DURATION.findall(text.strip())
        if parts and "".join(n + u for n, u in parts) == text.strip():
            return sum(float(n) * _UNITS[u] for n, u in parts)
    raise ConfigError(f'{where}: {text!r} is not a duration; write it like "3m" or "90s"')


def _block(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        merged: dict[str, Any] = {}
        for item in value:
            merged.update(item)
        return merged
    raise ConfigError(f"{where} must be a block, got {value!r}")


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


def _unknown(keys: set[str], allowed: set[str], where: str) -> None:
    unknown = sorted(keys - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(allowed))}"
        )


@dataclass
class PluginConfig:
    """``plugin "docker" { config { ... } }`` with Nomad's defaults."""

    endpoint: str = ""  # empty: DOCKER_HOST or the local socket
    allow_privileged: bool = False
    volumes_enabled: bool = False
    gc_image: bool = True
    gc_image_delay: float = 180.0
    gc_container: bool = True
    extra_labels: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> PluginConfig:
        where = 'plugin "docker" config'
        _unknown(set(raw), PLUGIN_KEYS, where)
        cfg = cls(endpoint=str(raw.get("endpoint", "")))
        if "allow_privileged" in raw:
            cfg.allow_privileged = _bool(raw["allow_privileged"], f"{where}: allow_privileged")
        volumes = _block(raw.get("volumes"), f"{where}: volumes")
        _unknown(set(volumes), {"enabled", "selinuxlabel"}, f"{where}: volumes")
        if "enabled" in volumes:
            cfg.volumes_enabled = _bool(volumes["enabled"], f"{where}: volumes.enabled")
        gc = _block(raw.get("gc"), f"{where}: gc")
        _unknown(set(gc), GC_KEYS, f"{where}: gc")
        if "image" in gc:
            cfg.gc_image = _bool(gc["image"], f"{where}: gc.image")
        if "container" in gc:
            cfg.gc_container = _bool(gc["container"], f"{where}: gc.container")
        if "image_delay" in gc:
            cfg.gc_image_delay = parse_duration(gc["image_delay"], f"{where}: gc.image_delay")
        labels = raw.get("extra_labels", [])
        if not isinstance(labels, list):
            raise ConfigError(f"{where}: extra_labels must be a list of strings")
        cfg.extra_labels = [str(x) for x in labels]
        return cfg


@dataclass
class Mount:
    type: str
    target: str
    source: str = ""
    readonly: bool = False


@dataclass
class TaskSpec:
    """A task's ``config {}`` for docker, checked before anything reaches dockerd."""

    image: str
    load: str = ""
    force_pull: bool = False
    command: str = ""
    args: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    ports: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    network_mode: str = ""
    privileged: bool = False
    work_dir: str = ""
    hostname: str = ""
    memory_hard_limit: int = 0
    init: bool = False

    @classmethod
    def parse(cls, task: str, raw: dict[str, Any]) -> TaskSpec:
        where = f"task {task!r}: docker config"
        try:
            _unknown(set(raw), TASK_KEYS, where)
            image = raw.get("image")
            if not isinstance(image, str) or not image:
                raise ConfigError(f'{where}: image is required, e.g. image = "redis:7"')
            spec = cls(image=image)
            spec.load = _str(raw, "load", where)
            spec.force_pull = _bool(raw.get("force_pull", False), f"{where}: force_pull")
            spec.command = _str(raw, "command", where)
            spec.args = _strings(raw, "args", where)
            if "entrypoint" in raw:
                spec.entrypoint = _strings(raw, "entrypoint", where)
            spec.ports = _strings(raw, "ports", where)
            spec.labels = {str(k): str(v) for k, v in _block(raw.get("labels"), where).items()}
            spec.volumes = _strings(raw, "volumes", where)
            spec.mounts = [_mount(m, where) for m in _blocks(raw.get("mount"), f"{where}: mount")]
            spec.network_mode = _str(raw, "network_mode", where)
            spec.privileged = _bool(raw.get("privileged", False), f"{where}: privileged")
            spec.work_dir = _str(raw, "work_dir", where)
            spec.hostname = _str(raw, "hostname", where)
            spec.init = _bool(raw.get("init", False), f"{where}: init")
            hard = raw.get("memory_hard_limit", 0)
            if not isinstance(hard, int) or isinstance(hard, bool) or hard < 0:
                raise ConfigError(f"{where}: memory_hard_limit must be a number of MB")
            spec.memory_hard_limit = hard
        except ConfigError as exc:
            raise DriverError(str(exc), recoverable=False) from exc
        return spec


def _str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _strings(raw: dict[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ConfigError(f'{where}: {key} must be a list of strings, e.g. {key} = ["a", "b"]')
    return [str(v) for v in value]


def _blocks(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return list(value)
    raise ConfigError(f"{where} must be one or more blocks")


def _mount(raw: dict[str, Any], where: str) -> Mount:
    _unknown(set(raw), {"type", "target", "source", "readonly"}, where)
    kind = str(raw.get("type", "volume"))
    if kind not in ("bind", "volume", "tmpfs"):
        raise ConfigError(f'{where}: type {kind!r} is not one of "bind", "volume", "tmpfs"')
    target = raw.get("target")
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{where}: target (the path inside the container) is required")
    readonly = _bool(raw.get("readonly", False), f"{where}: readonly")
    return Mount(type=kind, target=target, source=str(raw.get("source", "")), readonly=readonly)
