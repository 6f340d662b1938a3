"""Measured resource usage as Nomad's CLI prints it (``alloc status``, ``alloc status -stats``).

``usage_vs_limits`` gives the "Task Resources" cells (``12/100 MHz``, ``2.1 MiB/64 MiB``);
``resource_stats`` prints the "Memory Stats" and "CPU Stats" tables of ``-stats`` with the
columns the driver says it measured. Sizes use go-humanize's ``IBytes`` format.
"""

from __future__ import annotations

import math
from typing import Any

from nomadic.cli.output import out

__all__ = ["ibytes", "resource_stats", "usage_vs_limits"]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")

_MEMORY_FIELDS = {
    "RSS": "RSS",
    "Cache": "Cache",
    "Swap": "Swap",
    "Mapped File": "MappedFile",
    "Usage": "Usage",
    "Max Usage": "MaxUsage",
    "Kernel Usage": "KernelUsage",
    "Kernel Max Usage": "KernelMaxUsage",
}
_CPU_PERCENTS = {"Percent": "Percent", "User Mode": "UserMode", "System Mode": "SystemMode"}
_CPU_COUNTS = {"Throttled Periods": "ThrottledPeriods", "Throttled Time": "ThrottledTime"}


def ibytes(n: int) -> str:
    """go-humanize ``IBytes``: ``512 B``, ``1.5 KiB``, ``25 MiB``."""
    if n < 10:
        return f"{n} B"
    exp = min(math.floor(math.log(n, 1024)), len(_UNITS) - 1)
    value = math.floor(n / 1024**exp * 10 + 0.5) / 10
    return f"{value:.1f} {_UNITS[exp]}" if value < 10 else f"{value:.0f} {_UNITS[exp]}"


def usage_vs_limits(usage: dict[str, Any], cpu_limit: str, memory_limit: str) -> tuple[str, str]:
    """``(cpu, memory)`` cells: measured/limit, as Nomad's ``outputTaskResources``."""
    cpu_stats = usage.get("CpuStats") or {}
    mem_stats = usage.get("MemoryStats") or {}
    cpu = f"{math.floor(cpu_stats.get('TotalTicks', 0.0))}/{cpu_limit}"
    used = int(mem_stats.get("RSS", 0))
    if not used and "RSS" not in (mem_stats.get("Measured") or []):
        used = int(mem_stats.get("Usage", 0))  # cgroup v2 measures Usage, not RSS
    return cpu, f"{ibytes(used)}/{memory_limit}"


def resource_stats(usage: dict[str, Any]) -> None:
    """The ``-stats`` tables: only the columns the driver measured, sorted by name."""
    memory = usage.get("MemoryStats") or {}
    measured = sorted(memory.get("Measured") or [])
    if measured:
        out.line("Memory Stats")
        values = [ibytes(int(memory.get(_MEMORY_FIELDS[m], 0))) for m in measured]
        out.table(measured, [values])
        out.line()
    cpu = usage.get("CpuStats") or {}
    measured = sorted(m for m in cpu.get("Measured") or [] if m in _CPU_PERCENTS | _CPU_COUNTS)
    if measured:
        out.line("CPU Stats")
        values = [
            f"{float(cpu.get(_CPU_PERCENTS[m], 0.0)):.2f}%"
            if m in _CPU_PERCENTS
            else str(cpu.get(_CPU_COUNTS[m], 0))
            for m in measured
        ]
        out.table(measured, [values])
