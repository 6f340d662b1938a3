"""``nomadic agent``: run an agent (server, client, or both) in the foreground."""

from __future__ import annotations

import click


@click.command("agent", context_settings={"show_default": True})
@click.option(
    "-dev", "--dev", "dev", is_flag=True, help="Server + client in one process, for development."
)
@click.option(
    "-config",
    "--config",
    "configs",
    multiple=True,
    type=click.Path(),
    help="Agent config file (HCL or JSON); repeatable.",
)
@click.option(
    "-server", "--server", "server", is_flag=True, default=None, help="Enable the server role."
)
@click.option(
    "-client", "--client", "client", is_flag=True, default=None, help="Enable the client role."
)
@click.option(
    "-data-dir", "--data-dir", "data_dir", default=None, help="Where the agent keeps its state."
)
@click.option(
    "-bind",
    "--bind",
    "bind_addr",
    default=None,
    help="Address to bind the HTTP, RPC and Raft listeners to.",
)
@click.option("-region", "--region", "region", default=None, help="Region of the agent.")
@click.option("-dc", "--dc", "datacenter", default=None, help="Datacenter of the agent.")
@click.option("-node", "--node", "name", default=None, help="Node name.")
@click.option(
    "-bootstrap-expect",
    "--bootstrap-expect",
    "bootstrap_expect",
    type=int,
    default=None,
    help="Servers to wait for before bootstrapping.",
)
@click.option(
    "-servers",
    "--servers",
    "servers",
    default=None,
    help="Comma-separated server RPC addresses for a client.",
)
@click.option(
    "-log-level",
    "--log-level",
    "log_level",
    default=None,
    help="TRACE, DEBUG, INFO, WARN or ERROR.",
)
@click.option(
    "-log-json", "--log-json", "log_json", is_flag=True, default=None, help="Log as JSON lines."
)
def agent_command(
    dev: bool,
    configs: tuple[str, ...],
    server: bool | None,
    client: bool | None,
    data_dir: str | None,
    bind_addr: str | None,
    region: str | None,
    datacenter: str | None,
    name: str | None,
    bootstrap_expect: int | None,
    servers: str | None,
    log_level: str | None,
    log_json: bool | None,
) -> None:
    """Run a nomadic agent until interrupted (Ctrl-C or SIGTERM stops it cleanly)."""
    from nomadic.agent.command import run
    from nomadic.agent.config import AgentConfig, load_file
    from nomadic.errors import ConfigError

    try:
        cfg = AgentConfig.dev() if dev else AgentConfig()
        for path in configs:
            cfg = load_file(path, cfg)
        overrides = {
            "data_dir": data_dir,
            "bind_addr": bind_addr,
            "region": region,
            "datacenter": datacenter,
            "name": name,
            "log_level": log_level,
            "log_json": log_json,
        }
        for key, value in overrides.items():
            if value is not None:
                setattr(cfg, key, value)
        if server is not None:
            cfg.server.enabled = server
        if client is not None:
            cfg.client.enabled = client
        if bootstrap_expect is not None:
            cfg.server.bootstrap_expect = bootstrap_expect
        if servers:
            cfg.client.servers = [s.strip() for s in servers.split(",") if s.strip()]
        if not (cfg.server.enabled or cfg.client.enabled):
            raise ConfigError(
                "Must specify either server, client or dev mode for the agent "
                "(-dev, -server, -client, or server/client blocks in a config file)"
            )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    raise SystemExit(run(cfg))
