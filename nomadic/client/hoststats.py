"""Host resource usage in Nomad's ``HostStats`` JSON shape (``GET /v1/client/stats``)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import psutil

__all__ = ["host_stats"]


def host_stats(alloc_dir: Path) -> dict[str, Any]:
    vm = psutil.virtual_memory()
    cpus = []
    for i, pct in enumerate(psutil.cpu_times_percent(interval=None, percpu=True)):
        busy = pct.user + pct.system
        cpus.append(
            {
                "CPU": f"cpu{i}",
                "User": pct.user,
                "System": pct.system,
                "Idle": pct.idle,
                "Total": busy,
            }
        )
    disks = []
    with contextlib.suppress(Exception):
        for part in psutil.disk_partitions(all=False):
            with contextlib.suppress(OSError):
                disks.append(_disk(part.device, part.mountpoint))
    alloc_dir.mkdir(parents=True, exist_ok=True)
    return {
        "Memory": {
            "Total": vm.total,
            "Available": vm.available,
            "Used": vm.used,
            "Free": vm.free,
        },
        "CPU": cpus,
        "DiskStats": disks,
        "AllocDirStats": _disk("", str(alloc_dir)),
        "DeviceStats": [],
        "Uptime": int(time.time() - psutil.boot_time()),
        "Timestamp": time.time_ns(),
        "CPUTicksConsumed": sum(c["Total"] for c in cpus),
    }


def _disk(device: str, mountpoint: str) -> dict[str, Any]:
    usage = psutil.disk_usage(mountpoint)
    return {
        "Device": device,
        "Mountpoint": mountpoint,
        "Size": usage.total,
        "Used": usage.used,
        "Available": usage.free,
        "UsedPercent": usage.percent,
        "InodesUsedPercent": 0.0,
    }
