"""Docker's stats JSON -> Nomad's TaskResourceUsage, and signal names -> numbers.

cgroup v1 reports ``rss``/``cache``/``swap`` in ``memory_stats.stats``; cgroup v2 has ``anon``
and ``file`` instead. CPU percent is computed against the previous sample we took (docker's
one-shot stats carry no ``precpu``), as ``docker stats`` does: container delta over system
delta, times the online CPUs.
"""

from __future__ import annotations

import signal as signals
import time
from typing import Any

from nomadic.plugin import CpuStats, MemoryStats, ResourceUsage, TaskResourceUsage

NS = 1_000_000_000


def convert(
    raw: dict[str, Any], last: tuple[int, int]
) -> tuple[TaskResourceUsage, tuple[int, int]]:
    mem = raw.get("memory_stats") or {}
    detail = mem.get("stats") or {}
    rss = int(detail.get("rss", detail.get("anon", 0)))
    usage = int(mem.get("usage", 0))
    memory = MemoryStats(
        rss=rss or usage,
        cache=int(detail.get("cache", detail.get("file", 0))),
        swap=int(detail.get("swap", 0)),
        mapped_file=int(detail.get("mapped_file", 0)),
        usage=usage,
        max_usage=int(mem.get("max_usage", 0)),
        measured=["RSS", "Cache", "Swap", "Usage", "Max Usage"],
    )
    cpu_raw = raw.get("cpu_stats") or {}
    cpu_usage = cpu_raw.get("cpu_usage") or {}
    total = int(cpu_usage.get("total_usage", 0))
    system = int(cpu_raw.get("system_cpu_usage", 0))
    cpus = int(cpu_raw.get("online_cpus") or len(cpu_usage.get("percpu_usage") or []) or 1)
    percent = 0.0
    if last[1] and system > last[1]:
        percent = (total - last[0]) / (system - last[1]) * cpus * 100.0
    throttling = cpu_raw.get("throttling_data") or {}
    cpu = CpuStats(
        user_mode=int(cpu_usage.get("usage_in_usermode", 0)) / NS,
        system_mode=int(cpu_usage.get("usage_in_kernelmode", 0)) / NS,
        throttled_periods=int(throttling.get("throttled_periods", 0)),
        throttled_time=int(throttling.get("throttled_time", 0)),
        percent=max(percent, 0.0),
        measured=["Throttled Periods", "Throttled Time", "Percent"],
    )
    result = TaskResourceUsage(
        resource_usage=ResourceUsage(memory_stats=memory, cpu_stats=cpu), timestamp=time.time_ns()
    )
    return result, (total, system)


def signal_number(name: str) -> int | None:
    """``"SIGTERM"``/``"TERM"``/``"15"`` -> 15; ``None`` when unknown."""
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(signals.Signals[text])
    except KeyError:
        return None
