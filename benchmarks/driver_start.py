"""Start-to-running latency of each installed task driver: median of N starts.

For every driver plugin that is installed and healthy here, start a long-running task through
the driver API (as the client does), time ``start_task`` until ``inspect_task`` says
``running``, then stop and destroy it. Drivers without a known sample task or whose sample
cannot run here are listed with the reason.

    uv run python benchmarks/driver_start.py [-n 10]

Sample tasks: raw_exec and exec run ``/bin/sleep``; java a jar compiled with javac here;
qemu the guest from ``.ci/setup.d/30-qemu.sh`` (running = the qemu process is up, not the
guest booted); docker ``sleep`` in $NOMADIC_BENCH_DOCKER_IMAGE (default ``nomadic/busybox:test``,
the image ``.ci/setup.d/20-docker.sh`` builds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nomadic.plugin import PluginManager, TaskConfig, TaskDriver

QEMU = Path(os.environ.get("NOMADIC_QEMU_ASSETS", "/var/cache/nomadic/qemu"))
SLEEP = {"command": "/bin/sleep", "args": ["600"]}
JAVA_SRC = "public class Sleep { public static void main(String[] a) throws Exception {" \
    " Thread.sleep(600000); } }"  # fmt: skip


def java_config(work: Path) -> tuple[dict[str, Any], Callable[[Path], None]]:
    if shutil.which("javac") is None:
        raise RuntimeError("no javac to build the sample jar")
    (work / "Sleep.java").write_text(JAVA_SRC)
    subprocess.run(["javac", "-d", str(work), str(work / "Sleep.java")], check=True)
    jar = work / "sleep.jar"
    subprocess.run(
        ["jar", "--create", "--file", str(jar), "--main-class", "Sleep", "-C", str(work), "."],
        check=True,
    )

    def prepare(task_dir: Path) -> None:
        shutil.copy(jar, task_dir / "local")

    return {"jar_path": "local/sleep.jar"}, prepare


def qemu_config(_work: Path) -> tuple[dict[str, Any], Callable[[Path], None]]:
    if not (QEMU / "vmlinuz").exists():
        raise RuntimeError(f"no guest in {QEMU}: run .ci/setup.d/30-qemu.sh")
    args = ["-kernel", str(QEMU / "vmlinuz"), "-initrd", str(QEMU / "initramfs.cpio.gz")]
    args += ["-append", "console=ttyS0 quiet nomadic_mode=sleep"]

    def prepare(task_dir: Path) -> None:  # each VM its own disk: qemu write-locks its image
        shutil.copy(QEMU / "disk.img", task_dir / "local")

    return {"image_path": "local/disk.img", "args": args}, prepare


def docker_config(_work: Path) -> tuple[dict[str, Any], Callable[[Path], None]]:
    image = os.environ.get("NOMADIC_BENCH_DOCKER_IMAGE", "nomadic/busybox:test")
    return {"image": image, "command": "sleep", "args": ["600"]}, lambda _: None


SAMPLES: dict[str, Callable[[Path], tuple[dict[str, Any], Callable[[Path], None]]]] = {
    "raw_exec": lambda _: (SLEEP, lambda _: None),
    "exec": lambda _: (SLEEP, lambda _: None),
    "java": java_config,
    "qemu": qemu_config,
    "docker": docker_config,
}


def make_driver(cls: type[TaskDriver]) -> TaskDriver:
    driver = cls()
    driver.set_config({"enabled": True} if cls.name == "raw_exec" else {})
    return driver


def time_starts(driver: TaskDriver, config: dict[str, Any], prepare: Callable[[Path], None],
                work: Path, n: int) -> list[float]:  # fmt: skip
    times = []
    for i in range(n):
        task_dir = work / f"{driver.name}-{i}"
        (task_dir / "local").mkdir(parents=True)
        prepare(task_dir)
        cfg = TaskConfig(
            id=f"{uuid.uuid4()}/bench/{i}",
            name="bench",
            alloc_id=str(uuid.uuid4()),
            env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
            memory_mb=256,
            cpu_shares=100,
            alloc_dir=str(task_dir),
            task_dir=str(task_dir / "local"),
            stdout_path=str(task_dir / "stdout"),
            stderr_path=str(task_dir / "stderr"),
            config=config,
        )
        began = time.perf_counter()
        driver.start_task(cfg)
        while driver.inspect_task(cfg.id).state != "running":
            if time.perf_counter() - began > 60:
                raise RuntimeError("the task did not reach running within 60 s")
            time.sleep(0.001)
        times.append(time.perf_counter() - began)
        driver.destroy_task(cfg.id, force=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10, help="starts per driver (default 10)")
    args = parser.parse_args()
    pm = PluginManager()
    pm.load_entry_points()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="driver-start-") as tmp:
        for name, cls in sorted(pm.drivers().items()):
            driver = make_driver(cls)
            fp = driver.fingerprint()
            if not fp.healthy:
                rows.append((name, "-", "-", f"skipped: {fp.health_description}"))
                continue
            sample = SAMPLES.get(name)
            if sample is None:
                rows.append((name, "-", "-", "skipped: no sample task for this driver"))
                continue
            work = Path(tmp) / name
            work.mkdir()
            try:
                config, prepare = sample(work)
                times = time_starts(driver, config, prepare, work, args.n)
            except Exception as exc:  # report the driver, keep measuring the others
                rows.append((name, "-", "-", f"skipped: {exc}"))
                continue
            ms = sorted(t * 1000 for t in times)
            rows.append((name, f"{statistics.median(ms):.1f}", f"{ms[0]:.1f}-{ms[-1]:.1f}", ""))
    print(f"start-to-running latency, median of {args.n} (ms)")
    print(f"{'driver':<10} {'median':>8} {'range':>15}  note")
    for name, median, spread, note in rows:
        print(f"{name:<10} {median:>8} {spread:>15}  {note}")


if __name__ == "__main__":
    main()
