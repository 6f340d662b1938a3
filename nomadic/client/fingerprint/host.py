"""Host fingerprinters: cpu, memory, storage, host, network and nomad attributes (Nomad's names).

Each returns the attributes it found; :func:`nomadic.client.fingerprint.fingerprint_node`
turns them into the Node's attributes and resources.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
from pathlib import Path

import psutil

from nomadic import __version__

__all__ = ["cpu", "host", "memory", "network", "nomad", "storage"]

DEFAULT_MHZ = 1000.0  # Nomad's fallback when the frequency cannot be read

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}


def cpu(cpuinfo: str | None = None) -> dict[str, str]:
    """cpu.numcores, cpu.frequency (MHz), cpu.totalcompute, cpu.arch, cpu.modelname."""
    text = cpuinfo if cpuinfo is not None else _read("/proc/cpuinfo")
    cores = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    mhz, model = _parse_cpuinfo(text)
    if not mhz:
        with contextlib.suppress(Exception):
            freq = psutil.cpu_freq()
            mhz = float(freq.max or freq.current) if freq else 0.0
    mhz = mhz or DEFAULT_MHZ
    attrs = {
        "cpu.numcores": str(cores),
        "cpu.frequency": str(int(mhz)),
        "cpu.totalcompute": str(int(mhz) * cores),
        "cpu.arch": _GOARCH.get(platform.machine(), platform.machine()),
        "cpu.reservablecores": str(cores),
    }
    if model:
        attrs["cpu.modelname"] = model
    return attrs


def _parse_cpuinfo(text: str) -> tuple[float, str]:
    mhz: list[float] = []
    model = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "cpu MHz":
            with contextlib.suppress(ValueError):
                mhz.append(float(value))
        elif key == "model name" and not model:
            model = value.strip()
    return (max(mhz) if mhz else 0.0), model


def memory() -> dict[str, str]:
    return {"memory.totalbytes": str(psutil.virtual_memory().total)}


def storage(path: Path) -> dict[str, str]:
    """unique.storage.volume/bytestotal/bytesfree of the filesystem holding ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(path)
    return {
        "unique.storage.volume": _mount_device(path),
        "unique.storage.bytestotal": str(usage.total),
        "unique.storage.bytesfree": str(usage.free),
    }


def _mount_device(path: Path) -> str:
    best, device = "", ""
    resolved = str(path.resolve())
    with contextlib.suppress(Exception):
        for part in psutil.disk_partitions(all=True):
            mount = part.mountpoint
            inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, device = mount, part.device
    return device or best or "/"


def host() -> dict[str, str]:
    uname = platform.uname()
    os_release = _os_release()
    return {
        "kernel.name": uname.system.lower(),
        "kernel.version": uname.release,
        "kernel.arch": uname.machine,
        "os.name": os_release.get("ID", uname.system.lower()),
        "os.version": os_release.get("VERSION_ID", uname.release),
        "unique.hostname": socket.gethostname(),
    }


def _os_release() -> dict[str, str]:
    values = {}
    for line in _read("/etc/os-release").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


def network(advertise_addr: str) -> dict[str, str]:
    return {"unique.network.ip-address": advertise_addr}


def nomad(region: str, http_addr: str) -> dict[str, str]:
    attrs = {
        "nomad.version": __version__,
        "nomad.revision": "",
        "nomad.region": region,
        "nomad.service_discovery": "true",
    }
    if http_addr:
        attrs["unique.advertise.address"] = http_addr
    return attrs


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
