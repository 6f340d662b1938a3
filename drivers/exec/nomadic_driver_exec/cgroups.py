"""Task cgroups, v1 or v2 (detected): create with limits, read stats and OOM kills, kill, remove.

Limits follow Nomad's executor: the memory hard limit is ``memory_max`` when set (else
``memory``), with ``memory`` as the soft limit (v1 ``memory.soft_limit_in_bytes``, v2
``memory.low``); CPU is ``cpu.shares`` = the task's MHz on v1 and the equivalent ``cpu.weight``
on v2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "nomadic"
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")
USER_HZ = os.sysconf("SC_CLK_TCK")


def version(root: Path = ROOT) -> int:
    """2 for a unified hierarchy with controllers, 1 for v1 memory+cpu, 0 for none usable."""
    if (root / "cgroup.controllers").exists():
        wanted = {"memory", "cpu"}
        return 2 if wanted <= set((root / "cgroup.controllers").read_text().split()) else 0
    if (root / "memory" / "memory.limit_in_bytes").exists() and (root / "cpu").is_dir():
        return 1
    return 0


@dataclass
class TaskCgroup:
    """The cgroup directories of one task (one per v1 controller, or one on v2)."""

    version: int
    dirs: dict[str, str] = field(default_factory=dict)  # controller (or "unified") -> path

    @classmethod
    def create(cls, name: str, memory_mb: int, memory_max_mb: int, cpu_shares: int) -> TaskCgroup:
        ver = version()
        if ver == 0:
            raise OSError("no usable cgroup hierarchy (memory and cpu controllers)")
        cg = cls(ver)
        if ver == 2:
            parent = ROOT / PARENT
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                (parent / "cgroup.subtree_control").write_text("+memory +cpu +pids")
            path = parent / name
            path.mkdir(exist_ok=True)
            cg.dirs["unified"] = str(path)
        else:
            for ctl in V1_CONTROLLERS:
                base = ROOT / ctl
                if not base.is_dir():
                    continue
                path = base / PARENT / name
                path.mkdir(parents=True, exist_ok=True)
                cg.dirs[ctl] = str(path)
        cg._limit(memory_mb, memory_max_mb, cpu_shares)
        return cg

    def _limit(self, memory_mb: int, memory_max_mb: int, cpu_shares: int) -> None:
        hard = max(memory_max_mb, memory_mb) * 1024 * 1024
        soft = memory_mb * 1024 * 1024
        if self.version == 2:
            if hard:
                self._write("unified", "memory.max", str(hard))
                self._write("unified", "memory.swap.max", "0", optional=True)
            if soft and memory_max_mb > memory_mb:
                self._write("unified", "memory.low", str(soft))
            if cpu_shares:
                weight = 1 + ((max(cpu_shares, 2) - 2) * 9999) // 262142
                self._write("unified", "cpu.weight", str(max(1, min(weight, 10000))))
            return
        if hard:
            self._write("memory", "memory.limit_in_bytes", str(hard))
            self._write("memory", "memory.memsw.limit_in_bytes", str(hard), optional=True)
        if soft and memory_max_mb > memory_mb:
            self._write("memory", "memory.soft_limit_in_bytes", str(soft))
        if cpu_shares:
            self._write("cpu", "cpu.shares", str(max(cpu_shares, 2)))

    def _write(self, ctl: str, name: str, value: str, optional: bool = False) -> None:
        try:
            Path(self.dirs[ctl], name).write_text(value)
        except (OSError, KeyError):
            if not optional:
                raise

    def _read(self, ctl: str, name: str) -> str:
        try:
            return Path(self.dirs[ctl], name).read_text()
        except (OSError, KeyError):
            return ""

    def procs_files(self) -> list[str]:
        return [str(Path(d, "cgroup.procs")) for d in self.dirs.values()]

    def oom_events_file(self) -> str:
        if self.version == 2:
            return str(Path(self.dirs["unified"], "memory.events"))
        return str(Path(self.dirs["memory"], "memory.oom_control"))

    def pids(self) -> list[int]:
        ctl = "unified" if self.version == 2 else "memory"
        return [int(p) for p in self._read(ctl, "cgroup.procs").split()]

    def kill(self) -> None:
        """SIGKILL every process in the cgroup, until it is empty (freezing it on v1)."""
        if self.version == 2 and Path(self.dirs["unified"], "cgroup.kill").exists():
            self._write("unified", "cgroup.kill", "1", optional=True)
        frozen = "freezer" in self.dirs
        if frozen:
            self._write("freezer", "freezer.state", "FROZEN", optional=True)
        deadline = time.monotonic() + 5.0
        try:
            while (pids := self.pids()) and time.monotonic() < deadline:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if frozen:
                    self._write("freezer", "freezer.state", "THAWED", optional=True)
                time.sleep(0.01)
        finally:
            if frozen:
                self._write("freezer", "freezer.state", "THAWED", optional=True)

    def remove(self) -> None:
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                os.rmdir(path)

    def memory(self) -> dict[str, int]:
        """rss, cache, swap, mapped_file, usage, max_usage in bytes."""
        stat = _kv(self._read("unified" if self.version == 2 else "memory", "memory.stat"))
        if self.version == 2:
            usage = _int(self._read("unified", "memory.current"))
            return {
                "rss": stat.get("anon", 0),
                "cache": stat.get("file", 0),
                "swap": _int(self._read("unified", "memory.swap.current")),
                "mapped_file": stat.get("file_mapped", 0),
                "usage": usage,
                "max_usage": _int(self._read("unified", "memory.peak")) or usage,
            }
        return {
            "rss": stat.get("total_rss", stat.get("rss", 0)),
            "cache": stat.get("total_cache", stat.get("cache", 0)),
            "swap": stat.get("total_swap", stat.get("swap", 0)),
            "mapped_file": stat.get("total_mapped_file", stat.get("mapped_file", 0)),
            "usage": _int(self._read("memory", "memory.usage_in_bytes")),
            "max_usage": _int(self._read("memory", "memory.max_usage_in_bytes")),
        }

    def cpu(self) -> tuple[float, float, int, int]:
        """(user seconds, system seconds, throttled periods, throttled time ns)."""
        if self.version == 2:
            stat = _kv(self._read("unified", "cpu.stat"))
            return (
                stat.get("user_usec", 0) / 1e6,
                stat.get("system_usec", 0) / 1e6,
                stat.get("nr_throttled", 0),
                stat.get("throttled_usec", 0) * 1000,
            )
        acct = _kv(self._read("cpuacct", "cpuacct.stat"))
        throttle = _kv(self._read("cpu", "cpu.stat"))
        return (
            acct.get("user", 0) / USER_HZ,
            acct.get("system", 0) / USER_HZ,
            throttle.get("nr_throttled", 0),
            throttle.get("throttled_time", 0),
        )


def _int(text: str) -> int:
    try:
        return int(text.strip() or 0)
    except ValueError:
        return 0


def _kv(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out
