"""The client's metrics, under Nomad's names (``nomad.client.*``).

Gauges, computed once per ``collection_interval`` by :meth:`ClientMetrics.collect`:

- per allocation and task (``publish_allocation_metrics``; labels ``job task_group task
  alloc_id namespace host``): ``allocs.memory.{rss,cache,swap,usage,max_usage,kernel_usage,
  kernel_max_usage,mapped_file,allocated,max_allocated}`` (bytes) and ``allocs.cpu.{total_percent,
  total_ticks,user,system,throttled_time,throttled_periods,allocated}`` from the task's driver
  (``TaskDriver.task_stats``, the same numbers ``alloc status -stats`` prints);
- per node (``publish_node_metrics``; labels ``node_id datacenter node_class node_pool host``):
  ``host.cpu.*`` (per ``cpu``), ``host.memory.*``, ``host.disk.*``, ``allocated.*`` and
  ``unallocated.*`` (cpu MHz, memory MB, disk MB), ``allocations.{running,pending,blocked,
  migrating,terminal}``, ``tasks.{pending,running,dead}`` and ``uptime``.

Counters, recorded as status updates are reported (:meth:`ClientMetrics.observe`):
``allocs.{running,failed,complete,restart,oom_killed}`` with the task's labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import psutil

from nomadic.structs import AllocUpdate
from nomadic.structs.funcs import node_available
from nomadic.telemetry import GaugeSet, default_sink
from nomadic.telemetry.sink import Labels, label_tuple

from .allocrunner.state import client_status

if TYPE_CHECKING:
    from nomadic.plugin.records import TaskResourceUsage

    from .allocrunner.runner import AllocRunner
    from .client import Client

__all__ = ["ClientMetrics"]

MB = 1024 * 1024
_ALLOC_STATES = ("running", "pending", "blocked", "migrating", "terminal")
_TASK_STATES = ("pending", "running", "dead")


class ClientMetrics:
    def __init__(self, client: Client, *, allocations: bool, node: bool) -> None:
        self.client = client
        self.allocations = allocations
        self.node = node
        self._seen: dict[str, tuple[str, dict[str, int], set[str]]] = {}
        self._started = time.monotonic()

    # -- counters (called on every reported update: cheap) ------------------------------

    def observe(self, update: AllocUpdate) -> None:
        runner = self.client.runners.get(update.id)
        if runner is None:
            return
        status, restarts, ooms = self._seen.get(update.id, ("", {}, set()))
        for task, state in update.task_states.items():
            labels = self._labels(runner, task)
            if state.restarts > restarts.get(task, 0):
                default_sink.incr_counter(
                    "nomad.client.allocs.restart", state.restarts - restarts.get(task, 0), labels
                )
                restarts[task] = state.restarts
            oom = any(e.details.get("oom_killed") == "true" for e in state.events)
            if oom and task not in ooms:
                ooms.add(task)
                default_sink.incr_counter("nomad.client.allocs.oom_killed", 1, labels)
        if update.client_status != status and update.client_status in (
            "running",
            "failed",
            "complete",
        ):
            for task in update.task_states:
                default_sink.incr_counter(
                    f"nomad.client.allocs.{update.client_status}", 1, self._labels(runner, task)
                )
        self._seen[update.id] = (update.client_status, restarts, ooms)

    # -- gauges (every collection_interval) ---------------------------------------------

    async def collect(self, gauges: GaugeSet) -> None:
        for alloc_id in set(self._seen) - set(self.client.runners):
            del self._seen[alloc_id]
        if self.allocations:
            await self._alloc_gauges(gauges)
        if self.node:
            await asyncio.to_thread(self._host_gauges, gauges)
            self._node_gauges(gauges)

    async def _alloc_gauges(self, gauges: GaugeSet) -> None:
        pairs = [
            (runner, name, task_runner)
            for runner in list(self.client.runners.values())
            for name, task_runner in runner.tasks.items()
        ]
        results = await asyncio.gather(*(tr.stats() for _, _, tr in pairs))
        for (runner, name, _), usage in zip(pairs, results, strict=True):
            labels = label_tuple(self._labels(runner, name))
            task = runner.group.lookup_task(name)
            if task is not None:
                res = task.resources
                gauges.set("nomad.client.allocs.memory.allocated", res.memory_mb * MB, labels)
                max_mb = res.memory_max_mb or res.memory_mb
                gauges.set("nomad.client.allocs.memory.max_allocated", max_mb * MB, labels)
                gauges.set("nomad.client.allocs.cpu.allocated", res.cpu, labels)
            if usage is not None:
                _usage_gauges(gauges, usage, labels)

    def _labels(self, runner: AllocRunner, task: str) -> dict[str, str]:
        alloc = runner.alloc
        return {
            "job": alloc.job_id,
            "task_group": alloc.task_group,
            "task": task,
            "alloc_id": alloc.id,
            "namespace": alloc.namespace,
            "host": self.client.config.node_name,
        }

    def _node_labels(self) -> dict[str, str]:
        node = self.client.node
        return {
            "node_id": node.id,
            "datacenter": node.datacenter,
            "node_class": node.node_class,
            "node_pool": node.node_pool,
            "host": self.client.config.node_name,
        }

    def _host_gauges(self, gauges: GaugeSet) -> None:
        labels = self._node_labels()
        vm = psutil.virtual_memory()
        for key, value in (
            ("total", vm.total),
            ("available", vm.available),
            ("used", vm.used),
            ("free", vm.free),
        ):
            gauges.set(f"nomad.client.host.memory.{key}", value, labels)
        times = psutil.cpu_times_percent(interval=None, percpu=True)
        for i, pct in enumerate(times):
            cpu_labels = {**labels, "cpu": f"cpu{i}"}
            gauges.set("nomad.client.host.cpu.user", pct.user, cpu_labels)
            gauges.set("nomad.client.host.cpu.system", pct.system, cpu_labels)
            gauges.set("nomad.client.host.cpu.idle", pct.idle, cpu_labels)
            gauges.set("nomad.client.host.cpu.total", pct.user + pct.system, cpu_labels)
        alloc_dir = self.client.config.alloc_dir
        with contextlib.suppress(OSError):
            alloc_dir.mkdir(parents=True, exist_ok=True)
            usage = psutil.disk_usage(str(alloc_dir))
            disk_labels = {**labels, "disk": str(alloc_dir)}
            gauges.set("nomad.client.host.disk.size", usage.total, disk_labels)
            gauges.set("nomad.client.host.disk.used", usage.used, disk_labels)
            gauges.set("nomad.client.host.disk.available", usage.free, disk_labels)
            gauges.set("nomad.client.host.disk.used_percent", usage.percent, disk_labels)
        gauges.set("nomad.client.uptime", int(time.time() - psutil.boot_time()), labels)

    def _node_gauges(self, gauges: GaugeSet) -> None:
        labels = self._node_labels()
        runners = list(self.client.runners.values())
        cpu = mem = disk = 0
        counts = dict.fromkeys(_ALLOC_STATES, 0)
        tasks = dict.fromkeys(_TASK_STATES, 0)
        for runner in runners:
            status, _ = client_status(runner.machine.states)
            if status in ("complete", "failed", "lost"):
                counts["terminal"] += 1
                continue
            counts["running" if status == "running" else "pending"] += 1
            c, m, d = runner.alloc.allocated_resources.comparable()
            cpu, mem, disk = cpu + c, mem + m, disk + d
            for state in runner.machine.states.values():
                if state.state in tasks:
                    tasks[state.state] += 1
        avail_cpu, avail_mem, avail_disk = node_available(self.client.node)
        for key, used, avail in (
            ("cpu", cpu, avail_cpu),
            ("memory", mem, avail_mem),
            ("disk", disk, avail_disk),
        ):
            gauges.set(f"nomad.client.allocated.{key}", used, labels)
            gauges.set(f"nomad.client.unallocated.{key}", max(avail - used, 0), labels)
        for name, n in counts.items():
            gauges.set(f"nomad.client.allocations.{name}", n, labels)
        for name, n in tasks.items():
            gauges.set(f"nomad.client.tasks.{name}", n, labels)


def _usage_gauges(gauges: GaugeSet, usage: TaskResourceUsage, labels: Labels) -> None:
    mem = usage.resource_usage.memory_stats
    for key, value in (
        ("rss", mem.rss),
        ("cache", mem.cache),
        ("swap", mem.swap),
        ("usage", mem.usage),
        ("max_usage", mem.max_usage),
        ("kernel_usage", mem.kernel_usage),
        ("kernel_max_usage", mem.kernel_max_usage),
        ("mapped_file", mem.mapped_file),
    ):
        gauges.set(f"nomad.client.allocs.memory.{key}", value, labels)
    cpu = usage.resource_usage.cpu_stats
    for key, fvalue in (
        ("total_percent", cpu.percent),
        ("total_ticks", cpu.total_ticks),
        ("user", cpu.user_mode),
        ("system", cpu.system_mode),
        ("throttled_time", float(cpu.throttled_time)),
        ("throttled_periods", float(cpu.throttled_periods)),
    ):
        gauges.set(f"nomad.client.allocs.cpu.{key}", fvalue, labels)
