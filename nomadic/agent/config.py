"""Agent configuration: Nomad's agent schema where it applies, the ``-dev`` preset, and flags.

A config file is HCL (or JSON) with Nomad's top-level keys: ``data_dir``, ``bind_addr``,
``region``, ``datacenter``, ``name``, ``log_level``, ``ports { http rpc raft }``,
``server { enabled bootstrap_expect encrypt heartbeat_grace min_heartbeat_ttl
failover_heartbeat_ttl raft_multiplier wan_gossip_interval wan_failure_timeout
wan_reap_timeout authoritative_region replication_backoff server_join { retry_join } }``,
``client { enabled servers node_class node_pool meta max_kill_timeout host_volume "<name>" { path
read_only } }``, ``tls { rpc http ca_file cert_file key_file verify_https_client }``,
``telemetry { prometheus_metrics collection_interval publish_allocation_metrics
publish_node_metrics disable_hostname }`` and
``plugin "<driver>" { config { ... } }``.
Unknown keys are errors that name the key.
"""

from __future__ import annotations

import difflib
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nomadic.errors import ConfigError

DEFAULT_HTTP_PORT = 4646
DEFAULT_RPC_PORT = 4647
# Nomad uses 4648 for Serf gossip; nomadic gossips over its RPC port and gives 4648 to Raft.
DEFAULT_RAFT_PORT = 4648


@dataclass
class Ports:
    http: int = DEFAULT_HTTP_PORT
    rpc: int = DEFAULT_RPC_PORT
    raft: int = DEFAULT_RAFT_PORT


@dataclass
class ServerSection:
    enabled: bool = False
    bootstrap_expect: int = 1
    encrypt: str = ""
    # None: one per CPU core, like Nomad; 0: this server never schedules (its peers do)
    num_schedulers: int | None = None
    # other servers' RPC "host:port" (ports.rpc, 4647 by default), as Nomad's server_join
    retry_join: list[str] = field(default_factory=list)
    heartbeat_grace: str = "10s"
    min_heartbeat_ttl: str = "10s"
    failover_heartbeat_ttl: str = "5m"
    # Nomad's: scales the Raft election timeout (1-2 s x multiplier); 1..10
    raft_multiplier: int = 1
    # WAN gossip (nomadic's stand-in for Serf): push-pull round, failure and reap timeouts
    wan_gossip_interval: str = "1s"
    wan_failure_timeout: str = "10s"
    wan_reap_timeout: str = "72h"
    # the region where namespaces and node pools are written ("": this agent's region)
    authoritative_region: str = ""
    # nomadic only: wait after a failed replication round (Nomad waits 30 s)
    replication_backoff: str = "30s"


@dataclass
class ClientSection:
    enabled: bool = False
    servers: list[str] = field(default_factory=list)
    node_class: str = ""
    node_pool: str = "default"
    meta: dict[str, str] = field(default_factory=dict)
    max_kill_timeout: str = "30s"
    # host_volume "<name>" { path = "/abs/dir" read_only = false }: name -> (path, read_only)
    host_volumes: dict[str, tuple[str, bool]] = field(default_factory=dict)


@dataclass
class TLSSection:
    """Nomad's ``tls`` block: mutual TLS for gRPC between agents (``rpc``), HTTPS for the
    HTTP API (``http``; client certificates required only with ``verify_https_client``)."""

    http: bool = False
    rpc: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    verify_https_client: bool = False  # Nomad's default for HTTP
    verify_server_hostname: bool = True  # always on: servers must carry server.<region>.nomad


@dataclass
class TelemetrySection:
    """Nomad's ``telemetry`` block; ``-dev`` turns every switch on."""

    prometheus_metrics: bool = False
    collection_interval: str = "1s"
    publish_allocation_metrics: bool = False
    publish_node_metrics: bool = False
    disable_hostname: bool = False


@dataclass
class AgentConfig:
    region: str = "global"
    datacenter: str = "dc1"
    name: str = field(default_factory=socket.gethostname)
    data_dir: str = ""
    bind_addr: str = "0.0.0.0"
    log_level: str = "INFO"
    log_json: bool = False
    dev_mode: bool = False
    ports: Ports = field(default_factory=Ports)
    server: ServerSection = field(default_factory=ServerSection)
    client: ClientSection = field(default_factory=ClientSection)
    tls: TLSSection = field(default_factory=TLSSection)
    telemetry: TelemetrySection = field(default_factory=TelemetrySection)
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def dev(cls) -> AgentConfig:
        """``nomadic agent -dev``: server + client, one-node quorum, raw_exec on, loopback."""
        return cls(
            bind_addr="127.0.0.1",
            log_level="DEBUG",
            dev_mode=True,
            server=ServerSection(enabled=True, bootstrap_expect=1),
            client=ClientSection(enabled=True),
            plugins={"raw_exec": {"enabled": True}},
            telemetry=TelemetrySection(
                prometheus_metrics=True,
                publish_allocation_metrics=True,
                publish_node_metrics=True,
            ),
        )

    @property
    def advertise_addr(self) -> str:
        return "127.0.0.1" if self.bind_addr in ("0.0.0.0", "", "::") else self.bind_addr


_SECTIONS: dict[str, type] = {
    "ports": Ports,
    "server": ServerSection,
    "client": ClientSection,
    "tls": TLSSection,
    "telemetry": TelemetrySection,
}


def load_file(path: str, base: AgentConfig | None = None) -> AgentConfig:
    """Merge the config file at ``path`` over ``base`` (or the defaults)."""
    cfg = base or AgentConfig()
    text = _read(path)
    data = _parse(text, path)
    _merge(cfg, data, path)
    return cfg


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read agent config: {exc.strerror}") from exc


def _parse(text: str, path: str) -> dict[str, Any]:
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: agent config must be an object")
        return loaded
    import hcl2

    try:
        parsed = hcl2.loads(text)
    except Exception as exc:  # the parser raises lark errors of many kinds
        raise ConfigError(f"{path}: invalid HCL: {exc}") from exc
    plain: dict[str, Any] = _plain(parsed)
    return plain


def _plain(value: Any) -> Any:
    """python-hcl2 wraps blocks in lists and keeps quotes; reduce to plain data."""
    if isinstance(value, dict):
        return {_unquote(k): _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _merge(cfg: AgentConfig, data: dict[str, Any], path: str) -> None:
    for key, value in data.items():
        if key == "plugin":
            _merge_plugins(cfg, value, path)
        elif key in _SECTIONS:
            section = getattr(cfg, key)
            for block in value if isinstance(value, list) else [value]:
                _merge_section(section, block, f"{path}: {key}")
        elif key in AgentConfig.__dataclass_fields__ and key not in ("dev_mode", "plugins"):
            setattr(cfg, key, _coerce(getattr(cfg, key), value, f"{path}: {key}"))
        else:
            raise ConfigError(
                _unknown(f"{path}: unknown agent config key {key!r}", key, data_keys())
            )


def data_keys() -> list[str]:
    return [k for k in AgentConfig.__dataclass_fields__ if k not in ("dev_mode", "plugins")] + [
        "plugin"
    ]


def _merge_section(section: Any, block: dict[str, Any], where: str) -> None:
    fields = type(section).__dataclass_fields__
    for key, value in block.items():
        if key == "server_join" and isinstance(section, ServerSection):
            for join in value if isinstance(value, list) else [value]:
                _merge_server_join(section, join, f"{where}.server_join")
            continue
        if key == "host_volume" and isinstance(section, ClientSection):
            for volumes in value if isinstance(value, list) else [value]:
                _merge_host_volumes(section, volumes, f"{where}.host_volume")
            continue
        if key not in fields:
            raise ConfigError(_unknown(f"{where}: unknown key {key!r}", key, list(fields)))
        setattr(section, key, _coerce(getattr(section, key), value, f"{where}.{key}"))


def _merge_server_join(section: ServerSection, block: Any, where: str) -> None:
    if not isinstance(block, dict):
        raise ConfigError(f"{where}: must be a block")
    for key, value in block.items():
        if key != "retry_join":
            raise ConfigError(_unknown(f"{where}: unknown key {key!r}", key, ["retry_join"]))
        section.retry_join = _coerce(section.retry_join, value, f"{where}.retry_join")


def _merge_host_volumes(section: ClientSection, block: Any, where: str) -> None:
    if not isinstance(block, dict):
        raise ConfigError(f'{where}: write host_volume "<name>" {{ path = "/dir" }}')
    for name, body in block.items():
        body = body[0] if isinstance(body, list) and body else body
        here = f'{where} "{name}"'
        if not isinstance(body, dict):
            raise ConfigError(f"{here}: must be a block with path and read_only")
        unknown = set(body) - {"path", "read_only"}
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(_unknown(f"{here}: unknown key {key!r}", key, ["path", "read_only"]))
        path = str(body.get("path", ""))
        if not path.startswith("/"):
            raise ConfigError(f"{here}: path must be an absolute path, got {path!r}")
        if not Path(path).exists():
            raise ConfigError(f"{here}: path {path} does not exist on this host; create it first")
        read_only = _coerce(False, body.get("read_only", False), f"{here}.read_only")
        section.host_volumes[name] = (path, read_only)


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, where: str) -> float:
    """Seconds from a Go-style duration ("10s", "500ms", "1m30s")."""
    import re

    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ConfigError(f'{where}: invalid duration {text!r}; write it like "10s" or "1m"')
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _merge_plugins(cfg: AgentConfig, value: Any, path: str) -> None:
    for block in value if isinstance(value, list) else [value]:
        for name, body in block.items():
            body = body[0] if isinstance(body, list) and body else body
            conf = body.get("config", {}) if isinstance(body, dict) else {}
            conf = conf[0] if isinstance(conf, list) and conf else conf
            if not isinstance(conf, dict):
                raise ConfigError(f"{path}: plugin {name!r}: config must be a block")
            cfg.plugins.setdefault(name, {}).update(conf)


def _coerce(current: Any, value: Any, where: str) -> Any:
    if current is None:  # optional numbers (num_schedulers): unset until configured
        current = 0
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(current, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if isinstance(current, list):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [str(v) for v in value]
    if isinstance(current, dict):
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a map, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    return str(value)


def _unknown(message: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"{message}; did you mean {close[0]!r}?" if close else message
