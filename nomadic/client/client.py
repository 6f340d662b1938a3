"""Client: the client role of an agent. It fingerprints the node, registers it with the servers,
heartbeats, watches its allocations and runs them, and reports their status back.

    start() ─ fingerprint ─ register (retry with backoff) ─┬─ heartbeat every TTL
                                                          ├─ watch allocs (blocking query)
                                                          │     └─ AllocRunner per alloc
                                                          └─ sync alloc updates every 200 ms
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from pathlib import Path
from typing import Any

from nomadic.errors import NotFoundError, ValidationError
from nomadic.plugin import ExecStreams, ExitResult, PluginManager, TaskDriver
from nomadic.structs import Allocation, AllocUpdate, Node
from nomadic.structs.consts import NODE_STATUS_READY, SECOND

from .allocrunner.runner import AllocRunner
from .config import ClientConfig
from .context import RunnerContext
from .fingerprint import driver_infos, fingerprint_host, fingerprint_node
from .hoststats import host_stats
from .rpc import ServerRPC
from .state import ClientStateDB

__all__ = ["Client"]

log = logging.getLogger("nomadic.client")

ALLOC_SYNC_INTERVAL = 0.2  # Nomad's allocSyncIntv
WATCH_TIMEOUT = 300.0  # blocking query wait, seconds
DRIVER_FINGERPRINT_INTERVAL = 30.0
DEFAULT_TTL = 10 * SECOND
MAX_BACKOFF = 30.0


class Client:
    def __init__(
        self,
        config: ClientConfig,
        rpc: ServerRPC,
        plugins: PluginManager,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.rpc = rpc
        self.plugins = plugins
        self.rng = rng or random.Random()
        self.node_id, self.secret_id = self._load_identity()
        self.node = Node(id=self.node_id, secret_id=self.secret_id)
        self.drivers: dict[str, TaskDriver] = {}
        self.driver_errors: dict[str, str] = {}
        self.runners: dict[str, AllocRunner] = {}
        self.heartbeat_ttl = DEFAULT_TTL
        self.registered = asyncio.Event()
        self._pending: dict[str, AllocUpdate] = {}
        self._pending_set = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._ctx: RunnerContext | None = None
        self._db: ClientStateDB | None = None
        self._background: set[asyncio.Task[None]] = set()
        # set by the agent when telemetry is on; counts restarts, OOM kills, status changes
        self.metrics: Any = None

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Fingerprint and start the background loops; registration proceeds in the
        background, retrying until a server answers."""
        self.drivers, self.driver_errors = await asyncio.to_thread(self._load_drivers)
        self._db = await asyncio.to_thread(ClientStateDB, self.config.state_dir / "state.db")
        host_attrs = await asyncio.to_thread(fingerprint_host, self.config)
        infos = await asyncio.to_thread(driver_infos, self.drivers, self.driver_errors)
        self.node = fingerprint_node(self.config, self.node_id, self.secret_id, host_attrs, infos)
        self._ctx = RunnerContext(
            config=self.config,
            node=lambda: self.node,
            drivers=self.drivers,
            driver_errors=self.driver_errors,
            report=self._report,
            host_env=dict(os.environ),
            rng=self.rng,
            db=self._db,
        )
        await self._restore()
        loop = asyncio.get_running_loop()
        for coro, name in (
            (self._register_and_heartbeat(), "heartbeat"),
            (self._watch_allocs(), "watch-allocs"),
            (self._sync_allocs(), "sync-allocs"),
            (self._refingerprint_drivers(), "driver-fingerprint"),
        ):
            self._loops.append(loop.create_task(coro, name=f"client-{name}"))
        log.info("client started", extra={"node_id": self.node_id})

    async def shutdown(self) -> None:
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            # Python 3.11's asyncio.wait_for swallows a cancellation that arrives as its inner
            # future completes (the watch's blocking query returning at shutdown), and the
            # loop would go on: cancel again until the task is really done.
            while not task.done():
                await asyncio.wait([task], timeout=0.5)
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        runners = list(self.runners.values())
        if self.config.kill_on_shutdown:
            deadline = self.config.max_kill_timeout / SECOND + 5.0
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(r.kill_and_wait() for r in runners)), deadline
                )
            except TimeoutError:
                log.error("tasks did not stop within %.0fs of shutdown", deadline)
        await asyncio.gather(*(r.shutdown() for r in runners))
        try:
            await asyncio.wait_for(self._flush(), 2.0)
        except Exception as exc:
            log.warning("could not send the last allocation updates: %s", exc)
        for driver in self.drivers.values():
            with contextlib.suppress(Exception):
                driver.shutdown()
        if self._ctx is not None:
            self._ctx.shutdown()
        if self._db is not None:
            self._db.close()

    async def _restore(self) -> None:
        """Re-attach to the allocations a previous client process was running."""
        assert self._ctx is not None and self._db is not None
        for saved in await asyncio.to_thread(self._db.load):
            runner = AllocRunner(saved.alloc, self._ctx)
            self.runners[saved.alloc.id] = runner
            runner.restore(saved.tasks)
            log.info(
                "restored allocation %s",
                saved.alloc.id,
                extra={"alloc_id": saved.alloc.id, "job_id": saved.alloc.job_id},
            )

    # ---- ClientAPI ------------------------------------------------------------------------
    def alloc_dir(self, alloc_id: str) -> Path:
        runner = self.runners.get(alloc_id)
        if runner is not None:
            return runner.alloc_dir.root
        path = self.config.alloc_dir / alloc_id
        if alloc_id and path.is_dir():
            return path
        raise NotFoundError(f"unknown allocation {alloc_id!r} on client {self.node_id}")

    async def alloc_stats(self, alloc_id: str) -> dict[str, Any]:
        return await self._runner(alloc_id).stats()

    def host_stats(self) -> dict[str, Any]:
        return host_stats(self.config.alloc_dir)

    async def alloc_signal(self, alloc_id: str, task: str, signal: str) -> None:
        await self._runner(alloc_id).signal(task, signal)

    async def alloc_restart(self, alloc_id: str, task: str, all_tasks: bool) -> None:
        if task and all_tasks:
            raise ValidationError("AllTasks cannot be combined with a TaskName: pick one")
        self._runner(alloc_id).restart(task, all_tasks)

    async def alloc_exec(
        self, alloc_id: str, task: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        if not task:
            raise ValidationError("missing task name: add ?task=<task>")
        if not command or not command[0]:
            raise ValidationError('missing command: add ?command=["/bin/sh"] (a JSON array)')
        return await self._runner(alloc_id).exec_streaming(task, command, tty, streams)

    def _runner(self, alloc_id: str) -> AllocRunner:
        runner = self.runners.get(alloc_id)
        if runner is None:
            raise NotFoundError(f"unknown allocation {alloc_id!r} on client {self.node_id}")
        return runner

    # ---- drivers and identity -------------------------------------------------------------
    def _load_drivers(self) -> tuple[dict[str, TaskDriver], dict[str, str]]:
        drivers: dict[str, TaskDriver] = {}
        classes = self.plugins.drivers()
        errors = self.plugins.undetected()
        for name, cls in classes.items():
            try:
                driver = cls()
                driver.set_config(dict(self.config.plugin_configs.get(name, {})))
            except Exception as exc:  # one bad driver must not stop the client
                log.error("driver %s failed to configure: %s", name, exc)
                errors[name] = f"failed to configure: {exc}"
                continue
            drivers[name] = driver
        for name in set(self.config.plugin_configs) - set(drivers) - set(errors):
            log.warning('plugin "%s" is configured but no installed plugin provides it', name)
        return drivers, errors

    def _load_identity(self) -> tuple[str, str]:
        """Nomad keeps the node ID across restarts in ``client-id`` (and ``secret-id``)."""
        state = self.config.state_dir
        state.mkdir(parents=True, exist_ok=True)
        ids = []
        for name in ("client-id", "secret-id"):
            path = state / name
            value = path.read_text().strip() if path.exists() else ""
            if not value:
                value = str(uuid.uuid4())
                path.write_text(value)
            ids.append(value)
        return ids[0], ids[1]

    # ---- registration and heartbeats ------------------------------------------------------
    async def _register(self) -> None:
        backoff = 1.0
        while True:
            try:
                resp = await self.rpc.node_register(self.node)
            except Exception as exc:
                log.warning(
                    "no server answered Node.Register (%s); retrying in %.0fs", exc, backoff
                )
                await asyncio.sleep(backoff * (1 + self.rng.random() * 0.25))
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self.heartbeat_ttl = resp.heartbeat_ttl or DEFAULT_TTL
            self.registered.set()
            log.info("node registered", extra={"node_id": self.node_id})
            return

    async def _register_and_heartbeat(self) -> None:
        await self._register()
        stagger = 0.0 if self.config.dev_mode else self.config.first_heartbeat_stagger
        delay = self.rng.uniform(0, stagger)
        while True:
            await asyncio.sleep(delay)
            try:
                resp = await self.rpc.node_update_status(self.node_id, NODE_STATUS_READY)
            except NotFoundError:
                log.warning(
                    "server does not know node %s; registering again",
                    self.node_id,
                    extra={"node_id": self.node_id},
                )
                self.registered.clear()
                await self._register()
                delay = 0.0
                continue
            except Exception as exc:
                delay = min(max(self.rng.uniform(0, self.heartbeat_ttl / SECOND), 1.0), 30.0)
                log.warning("heartbeat failed (%s); retrying in %.1fs", exc, delay)
                continue
            self.heartbeat_ttl = resp.heartbeat_ttl or self.heartbeat_ttl
            delay = self.heartbeat_ttl / SECOND

    async def _refingerprint_drivers(self) -> None:
        while True:
            await asyncio.sleep(DRIVER_FINGERPRINT_INTERVAL)
            infos = await asyncio.to_thread(driver_infos, self.drivers, self.driver_errors)
            health = {n: (d.detected, d.healthy, d.health_description) for n, d in infos.items()}
            old = {
                n: (d.detected, d.healthy, d.health_description)
                for n, d in self.node.drivers.items()
            }
            if health != old:
                host_attrs = {
                    k: v for k, v in self.node.attributes.items() if not k.startswith("driver.")
                }
                self.node = fingerprint_node(
                    self.config, self.node_id, self.secret_id, host_attrs, infos
                )
                log.info("driver health changed; updating the node")
                await self._register()

    # ---- allocations ----------------------------------------------------------------------
    async def _watch_allocs(self) -> None:
        index = 0
        backoff = 1.0
        while True:
            await self.registered.wait()
            try:
                allocs, index = await self.rpc.node_get_client_allocs(
                    self.node_id, index, WATCH_TIMEOUT
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("watching allocations failed (%s); retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            self._reconcile(allocs)

    def _reconcile(self, allocs: list[Allocation]) -> None:
        assert self._ctx is not None
        seen = set()
        for alloc in allocs:
            seen.add(alloc.id)
            runner = self.runners.get(alloc.id)
            if runner is None:
                if alloc.client_terminal() or alloc.job is None:
                    continue
                runner = AllocRunner(alloc, self._ctx)
                self.runners[alloc.id] = runner
                runner.start()
            elif _changed(runner.alloc, alloc):
                runner.update(alloc)
        for alloc_id in set(self.runners) - seen:
            runner = self.runners.pop(alloc_id)
            if self._db is not None:
                self._db.delete_alloc(alloc_id)
            log.info(
                "allocation %s was removed by the server; stopping it",
                alloc_id,
                extra={"alloc_id": alloc_id},
            )
            job = asyncio.get_running_loop().create_task(runner.kill_and_wait())
            self._background.add(job)
            job.add_done_callback(self._background.discard)

    def _report(self, update: AllocUpdate) -> None:
        if self.metrics is not None:
            self.metrics.observe(update)
        self._pending[update.id] = update
        self._pending_set.set()

    async def _sync_allocs(self) -> None:
        """Send updates at most once per ALLOC_SYNC_INTERVAL, like Nomad, but on the leading
        edge: the first change after a quiet period goes out at once instead of waiting for
        the next tick, so `job run` sees a task running as soon as it is."""
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            await self._pending_set.wait()
            wait = last + ALLOC_SYNC_INTERVAL - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._pending_set.clear()
            last = loop.time()
            try:
                await self._flush()
            except Exception as exc:
                log.warning("sending allocation updates failed (%s); will retry", exc)
                self._pending_set.set()
                await asyncio.sleep(ALLOC_SYNC_INTERVAL)

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await self.rpc.node_update_alloc(list(batch.values()))
        except BaseException:
            for alloc_id, update in batch.items():
                self._pending.setdefault(alloc_id, update)  # newer updates win
            raise


def _changed(old: Allocation, new: Allocation) -> bool:
    return (old.alloc_modify_index, old.desired_status, _job_version(old)) != (
        new.alloc_modify_index,
        new.desired_status,
        _job_version(new),
    )


def _job_version(alloc: Allocation) -> tuple[int, int]:
    return (alloc.job.version, alloc.job.job_modify_index) if alloc.job else (0, 0)
