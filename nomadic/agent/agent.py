"""The agent: one asyncio loop hosting the HTTP API and the server and/or client roles.

Agent.start()
  ├─ Server (state, Raft, broker, workers, plan applier)      if server.enabled
  │     └─ RPCServer (gRPC on ports.rpc): joins, client RPCs, follower -> leader forwarding
  ├─ Client (fingerprint, register, heartbeat, alloc runners)  if client.enabled
  │     └─ talks to servers through ServerRPC: in-process with a local server, else gRPC
  │        to ``client { servers = [...] }`` with failover
  └─ HTTP API on bind_addr:ports.http
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
from typing import Any

from aiohttp import web

from nomadic import __version__
from nomadic.agent.config import AgentConfig, parse_duration
from nomadic.errors import ConfigError
from nomadic.structs import ClientHostVolumeConfig
from nomadic.telemetry import CollectionLoop, default_sink
from nomadic.tlsutil import HTTPTLS

log = logging.getLogger("nomadic.agent")


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.server: Any = None
        self.client: Any = None
        self.rpc: Any = None
        self._client_rpc: Any = None
        self._runner: web.AppRunner | None = None
        self._tmp_data_dir: str | None = None
        self._stopping = asyncio.Event()
        self._http_tls: HTTPTLS | None = None
        interval = parse_duration(
            config.telemetry.collection_interval, "telemetry.collection_interval"
        )
        self.collection = CollectionLoop(default_sink, interval)

    @property
    def http_addr(self) -> str:
        """The advertised HTTP address: ``host:port``, or ``https://host:port`` when the API
        speaks TLS (so proxying agents know the scheme)."""
        addr = f"{self.config.advertise_addr}:{self.config.ports.http}"
        return f"https://{addr}" if self.config.tls.http else addr

    @property
    def data_dir(self) -> str:
        return self.config.data_dir or self._tmp_data_dir or ""

    async def start(self) -> None:
        cfg = self.config
        if cfg.tls.http:  # before anything starts: a bad file is a config error, not a crash
            self._http_tls = HTTPTLS.load(
                cfg.tls.ca_file, cfg.tls.cert_file, cfg.tls.key_file, cfg.tls.verify_https_client
            )
        if not cfg.data_dir:
            if not cfg.dev_mode:
                raise ConfigError("data_dir is required unless running with -dev")
            self._tmp_data_dir = tempfile.mkdtemp(prefix="nomadic-dev-")
        os.makedirs(self.data_dir, exist_ok=True)
        if cfg.server.enabled:
            await self._start_server()
        if cfg.client.enabled:
            await self._start_client()
        self._start_telemetry()
        await self._start_http()
        log.info(
            "agent started",
            extra={
                "version": __version__,
                "http": ("https://" if cfg.tls.http else "") + f"{cfg.bind_addr}:{cfg.ports.http}",
            },
        )

    async def _start_server(self) -> None:
        from nomadic.rpc import RPCPool, RPCServer
        from nomadic.rpc.wire import MemberInfo
        from nomadic.server import Server, ServerConfig

        from .join import gossip_config, join_servers, rpc_addresses, server_heartbeat_config

        cfg = self.config
        if cfg.server.num_schedulers is not None and cfg.server.num_schedulers < 0:
            raise ConfigError(
                f"server.num_schedulers = {cfg.server.num_schedulers}: must be 0 (this server "
                "never schedules) or more; leave it out for one per CPU core"
            )
        if not 1 <= cfg.server.raft_multiplier <= 10:
            raise ConfigError(
                f"server.raft_multiplier = {cfg.server.raft_multiplier}: must be 1 to 10 "
                "(it scales Raft's election timeout; raise it on slow or overloaded machines)"
            )
        raft_addr = f"{cfg.advertise_addr}:{cfg.ports.raft}"
        member = MemberInfo(
            name=f"{cfg.name}.{cfg.region}",
            region=cfg.region,
            datacenter=cfg.datacenter,
            rpc_addr=f"{cfg.advertise_addr}:{cfg.ports.rpc}",
            raft_addr=raft_addr,
            http_addr=self.http_addr,
        )
        self.rpc = RPCServer(
            cfg.bind_addr, cfg.ports.rpc, member, RPCPool(self._rpc_tls()), gossip_config(cfg)
        )
        await self.rpc.start()
        peers = await join_servers(cfg, self.data_dir, self.rpc)
        self.server = Server(
            ServerConfig(
                region=cfg.region,
                datacenter=cfg.datacenter,
                node_name=cfg.name,
                data_dir=None
                if cfg.dev_mode and not cfg.data_dir
                else os.path.join(self.data_dir, "server"),
                # pysyncobj binds the address peers dial: the advertised one
                bind_addr=cfg.advertise_addr,
                raft_port=cfg.ports.raft,
                rpc_port=cfg.ports.rpc,
                peers=peers,
                num_schedulers=cfg.server.num_schedulers,
                encrypt=cfg.server.encrypt or None,
                heartbeat=server_heartbeat_config(cfg),
                raft_multiplier=cfg.server.raft_multiplier,
                authoritative_region=cfg.server.authoritative_region,
                replication_backoff=parse_duration(
                    cfg.server.replication_backoff, "server.replication_backoff"
                ),
            )
        )
        self.rpc.attach(self.server)
        await self.server.start()
        # WAN membership: every server of every region; retry_join may name other regions
        self.rpc.gossip.start(rpc_addresses(cfg.server.retry_join))

    async def _start_client(self) -> None:
        from nomadic.client import Client, ClientConfig
        from nomadic.plugin.manager import PluginManager

        cfg = self.config
        if self.server is not None:
            rpc: Any = self.server.local_rpc()
        elif cfg.client.servers:
            from nomadic.rpc import GrpcServerRPC, RPCPool

            from .join import rpc_addresses

            pool = RPCPool(self._rpc_tls())
            rpc = self._client_rpc = GrpcServerRPC(rpc_addresses(cfg.client.servers), pool)
        else:
            raise ConfigError(
                "a client-only agent needs servers to talk to: set client { servers = "
                '["host:4647"] } (the servers\' RPC addresses) or enable the server role'
            )
        plugins = PluginManager()
        plugins.load_entry_points()
        self.client = Client(
            ClientConfig(
                data_dir=os.path.join(self.data_dir, "client"),
                node_name=cfg.name,
                datacenter=cfg.datacenter,
                region=cfg.region,
                node_class=cfg.client.node_class,
                node_pool=cfg.client.node_pool,
                meta=dict(cfg.client.meta),
                host_volumes={
                    name: ClientHostVolumeConfig(name=name, path=path, read_only=read_only)
                    for name, (path, read_only) in cfg.client.host_volumes.items()
                },
                plugin_configs=cfg.plugins,
                advertise_addr=cfg.advertise_addr,
                http_addr=self.http_addr,
                dev_mode=cfg.dev_mode,
            ),
            rpc,
            plugins,
        )
        await self.client.start()

    def _rpc_tls(self) -> Any:
        """The agent's gRPC TLS material (``tls { rpc = true ... }``), or None."""
        tls = self.config.tls
        if not tls.rpc:
            return None
        from nomadic.rpc.tls import RPCTLS

        return RPCTLS.load(tls.ca_file, tls.cert_file, tls.key_file, self.config.region)

    def _start_telemetry(self) -> None:
        tel = self.config.telemetry
        if self.server is not None:
            from nomadic.server.metrics import ServerMetrics

            self.collection.add("server", ServerMetrics(self.server).collect)
        if self.client is not None and (tel.publish_allocation_metrics or tel.publish_node_metrics):
            from nomadic.client.metrics import ClientMetrics

            metrics = ClientMetrics(
                self.client,
                allocations=tel.publish_allocation_metrics,
                node=tel.publish_node_metrics,
            )
            self.client.metrics = metrics
            self.collection.add("client", metrics.collect)
        self.collection.start()

    async def _start_http(self) -> None:
        from nomadic.http import build_app
        from nomadic.http.forward import PROXY_TLS
        from nomadic.http.metrics import Telemetry

        cfg = self.config
        telemetry = Telemetry(default_sink, prometheus_metrics=cfg.telemetry.prometheus_metrics)
        app = build_app(self.server, self.client, self.info(), telemetry)
        tls = self._http_tls
        app[PROXY_TLS] = tls.proxy_tls() if tls is not None else None
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            cfg.bind_addr,
            cfg.ports.http,
            reuse_address=True,
            ssl_context=tls.server_context() if tls is not None else None,
        )
        await site.start()

    def info(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "name": cfg.name,
            "region": cfg.region,
            "datacenter": cfg.datacenter,
            "version": __version__,
            "dev_mode": cfg.dev_mode,
            "data_dir": self.data_dir,
            "bind_addr": cfg.bind_addr,
            "ports": {"http": cfg.ports.http, "rpc": cfg.ports.rpc, "raft": cfg.ports.raft},
            "server": cfg.server.enabled,
            "client": cfg.client.enabled,
        }

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait(self) -> None:
        await self._stopping.wait()

    async def shutdown(self) -> None:
        log.info("agent shutting down")
        await self.collection.stop()
        # open event and log streams end, so the HTTP server can stop at once
        if self.server is not None:
            self.server.events.close()
        from nomadic.agent.logs import broadcaster

        broadcaster.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.client is not None:
            await self.client.shutdown()
        if self._client_rpc is not None:
            await self._client_rpc.close()
        if self.server is not None:
            await self.server.shutdown()
        if self.rpc is not None:
            await self.rpc.gossip.stop(leave=True)
            await self.rpc.stop()
            await self.rpc.pool.close()
        if self._tmp_data_dir:
            shutil.rmtree(self._tmp_data_dir, ignore_errors=True)


async def serve(config: AgentConfig) -> None:
    agent = Agent(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, agent.request_stop)
    try:
        await agent.start()
        await agent.wait()
    finally:
        await agent.shutdown()
