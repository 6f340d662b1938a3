"""Cluster keys of the agent config: server_join, heartbeat tuning, client servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nomadic.agent.agent import Agent
from nomadic.agent.config import AgentConfig, load_file, parse_duration
from nomadic.agent.join import rpc_addresses, server_heartbeat_config
from nomadic.cli.main import cli
from nomadic.errors import ConfigError

SERVER = """
data_dir  = "/tmp/x"
server {
  enabled          = true
  bootstrap_expect = 3
  encrypt          = "c2VjcmV0"
  heartbeat_grace   = "2s"
  min_heartbeat_ttl = "1s"
  server_join {
    retry_join = ["10.0.0.1:4647", "10.0.0.2:4647"]
  }
}
client {
  enabled = true
  servers = ["10.0.0.1:4647"]
}
"""


def test_cluster_keys_are_read(tmp_path: Path) -> None:
    path = tmp_path / "server.hcl"
    path.write_text(SERVER)
    cfg = load_file(str(path))
    assert cfg.server.bootstrap_expect == 3
    assert cfg.server.retry_join == ["10.0.0.1:4647", "10.0.0.2:4647"]
    assert cfg.server.encrypt == "c2VjcmV0"
    assert cfg.client.servers == ["10.0.0.1:4647"]
    hb = server_heartbeat_config(cfg)
    assert (hb.heartbeat_grace, hb.min_heartbeat_ttl, hb.failover_heartbeat_ttl) == (2, 1, 300)


def test_unknown_server_join_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.hcl"
    path.write_text('server {\n  server_join {\n    retry_joins = ["a:1"]\n  }\n}\n')
    with pytest.raises(ConfigError, match=r"server_join: unknown key 'retry_joins'.*retry_join"):
        load_file(str(path))


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10), ("500ms", 0.5), ("1m30s", 90), ("2h", 7200)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds


def test_bad_duration_says_how_to_write_one() -> None:
    with pytest.raises(ConfigError, match=r"server.heartbeat_grace: invalid duration '10'"):
        parse_duration("10", "server.heartbeat_grace")


async def test_client_only_agent_without_servers_is_a_config_error(tmp_path: Path) -> None:
    cfg = AgentConfig(data_dir=str(tmp_path))
    cfg.client.enabled = True
    with pytest.raises(ConfigError, match=r"client \{ servers"):
        await Agent(cfg).start()


async def test_bootstrap_expect_without_join_addresses_is_a_config_error(tmp_path: Path) -> None:
    cfg = AgentConfig(data_dir=str(tmp_path), bind_addr="127.0.0.1")
    cfg.server.enabled = True
    cfg.server.bootstrap_expect = 3
    from nomadic.testing.agent_process import free_port

    cfg.ports.rpc, cfg.ports.raft = free_port(), free_port()
    agent = Agent(cfg)
    try:
        with pytest.raises(ConfigError, match="retry_join"):
            await agent.start()
    finally:
        await agent.shutdown()


def test_operator_keygen_prints_a_32_byte_key() -> None:
    import base64

    result = CliRunner().invoke(cli, ["operator", "keygen"])
    assert result.exit_code == 0
    assert len(base64.b64decode(result.output.strip())) == 32


def test_addresses_without_a_port_use_the_rpc_default() -> None:
    assert rpc_addresses(["10.0.0.1", "10.0.0.2:5000", "[::1]:4647"]) == [
        "10.0.0.1:4647",
        "10.0.0.2:5000",
        "[::1]:4647",
    ]


def test_num_schedulers_and_tls_blocks_are_read(tmp_path: Path) -> None:
    path = tmp_path / "agent.hcl"
    path.write_text(
        "server {\n  enabled = true\n  num_schedulers = 0\n}\n"
        'tls {\n  rpc = true\n  ca_file = "ca.pem"\n  cert_file = "c.pem"\n'
        '  key_file = "k.pem"\n}\n'
    )
    cfg = load_file(str(path))
    assert cfg.server.num_schedulers == 0  # 0 is "never schedule", not "one per core"
    assert cfg.server.raft_multiplier == 1
    assert (cfg.tls.rpc, cfg.tls.ca_file, cfg.tls.cert_file, cfg.tls.key_file) == (
        True,
        "ca.pem",
        "c.pem",
        "k.pem",
    )
    assert AgentConfig().server.num_schedulers is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("server {\n  enabled = true\n  num_schedulers = -1\n}\n", "num_schedulers = -1: must"),
        ("server {\n  raft_multiplier = 11\n}\n", "raft_multiplier = 11: must be 1 to 10"),
        ("tls {\n  http = true\n}\n", "tls.ca_file is required when tls { http = true }"),
        (
            'tls {\n  http = true\n  ca_file = "/nonexistent/ca.pem"\n'
            '  cert_file = "/nonexistent/c.pem"\n  key_file = "/nonexistent/k.pem"\n}\n',
            "tls.ca_file = '/nonexistent/ca.pem': cannot read it: No such file",
        ),
        (
            'tls {\n  rpc = true\n  ca_file = "/nonexistent/ca.pem"\n}\n',
            "tls.ca_file = '/nonexistent/ca.pem': cannot read it",
        ),
    ],
    ids=["negative-schedulers", "raft-multiplier", "https-no-ca", "https-missing-ca", "missing-ca"],
)
async def test_bad_server_and_tls_settings_refuse_to_start(
    tmp_path: Path, section: str, message: str
) -> None:
    from nomadic.testing.agent_process import free_port

    path = tmp_path / "agent.hcl"
    path.write_text(f'data_dir = "{tmp_path}"\nbind_addr = "127.0.0.1"\n' + section)
    cfg = load_file(str(path))
    cfg.server.enabled = True
    cfg.ports.rpc, cfg.ports.raft, cfg.ports.http = free_port(), free_port(), free_port()
    agent = Agent(cfg)
    try:
        with pytest.raises(ConfigError, match=message.replace("{", r"\{")):
            await agent.start()
    finally:
        await agent.shutdown()


@pytest.mark.parametrize(
    ("swap", "message"),
    [
        ("key", "cannot use them together"),
        ("cert", ": not a PEM file"),
    ],
    ids=["key-of-another-cert", "cert-not-pem"],
)
async def test_unusable_https_files_name_the_setting(
    tmp_path: Path, swap: str, message: str
) -> None:
    from nomadic.testing.tls import make_ca, make_cert

    ca = make_ca(tmp_path)
    server, other = make_cert(tmp_path, ca, "server"), make_cert(tmp_path, ca, "client")
    cert_file, key_file = server.cert_file, server.key_file
    if swap == "key":
        key_file = other.key_file
    else:
        cert_file = str(tmp_path / "agent.hcl")
    path = tmp_path / "agent.hcl"
    path.write_text(
        f'data_dir = "{tmp_path}"\nbind_addr = "127.0.0.1"\n'
        f'tls {{\n  http = true\n  ca_file = "{ca.cert_file}"\n  cert_file = "{cert_file}"\n'
        f'  key_file = "{key_file}"\n}}\n'
    )
    agent = Agent(load_file(str(path)))
    try:
        with pytest.raises(ConfigError) as err:
            await agent.start()
    finally:
        await agent.shutdown()
    assert f"tls.cert_file = {cert_file!r}" in str(err.value)
    assert message in str(err.value)
