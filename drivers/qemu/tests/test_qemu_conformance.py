"""qemu runs the shared driver conformance suite against a tiny guest booted under TCG.

The guest (a Debian cloud kernel and a busybox initramfs) is built offline by
``.ci/setup.d/30-qemu.sh`` into /var/cache/nomadic/qemu (or $NOMADIC_QEMU_ASSETS); its init
does what the kernel command line says: print a line, exit qemu with a code, or wait.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from nomadic_driver_qemu import QemuDriver, parse_version

from nomadic.errors import DriverError
from nomadic.plugin import PluginManager, TaskConfig, TaskDriver
from nomadic.testing.driver_conformance import CommandSpec, DriverConformance

ASSETS = Path(os.environ.get("NOMADIC_QEMU_ASSETS", "/var/cache/nomadic/qemu"))
FILES = ("vmlinuz", "initramfs.cpio.gz", "disk.img")
MISSING = [str(ASSETS / f) for f in FILES if not (ASSETS / f).is_file()]
if shutil.which("qemu-system-x86_64") is None:
    MISSING.insert(0, "qemu-system-x86_64")
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"missing {', '.join(MISSING)}: run .ci/setup.d/30-qemu.sh"
)


def guest(params: str, **extra: Any) -> dict[str, Any]:
    return {
        "image_path": "local/disk.img",  # each task's own copy: qemu write-locks its image
        "args": [
            "-kernel",
            str(ASSETS / "vmlinuz"),
            "-initrd",
            str(ASSETS / "initramfs.cpio.gz"),
            "-append",
            f"console=ttyS0 quiet panic=-1 {params}",
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x01",
        ],
        **extra,
    }


class TestQemuConformance(DriverConformance):
    def make_driver(self) -> TaskDriver:
        driver = QemuDriver()
        driver.set_config({})
        driver.fingerprint()
        return driver

    def task_config(self, task_dir: Path, config: dict[str, Any], **env: str) -> TaskConfig:
        cfg = super().task_config(task_dir, config, **env)
        shutil.copy(ASSETS / "disk.img", task_dir / "local" / "disk.img")
        return cfg

    def commands(self) -> CommandSpec:
        return CommandSpec(
            exit_code=lambda code: guest(f"nomadic_mode=exit nomadic_code={code}"),
            echo=lambda text: guest(f"nomadic_mode=echo nomadic_text={text.replace(' ', '_')}"),
            sleep=lambda: guest("nomadic_mode=sleep"),
            exec_echo=lambda text: ["/bin/echo", text],
        )


@pytest.fixture
def driver() -> QemuDriver:
    d = QemuDriver()
    d.set_config({})
    return d


def wait_text(path: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_entry_point_registers_qemu() -> None:
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.drivers()["qemu"] is QemuDriver


def test_fingerprint_reports_the_qemu_version(driver: QemuDriver) -> None:
    fp = driver.fingerprint()
    assert fp.attributes["driver.qemu"] == "1"
    assert fp.attributes["driver.qemu.version"].count(".") == 2
    assert parse_version("QEMU emulator version 7.2.22 (Debian)") == "7.2.22"


def test_graceful_shutdown_powers_the_guest_off(driver: QemuDriver, tmp_path: Path) -> None:
    cfg = TestQemuConformance().task_config(
        tmp_path, guest("nomadic_mode=sleep", graceful_shutdown=True)
    )
    driver.start_task(cfg)
    wait_text(Path(cfg.stdout_path), "nomadic guest ready")
    driver.stop_task(cfg.id, 30.0)
    result = driver.wait_task(cfg.id, 5)
    # the guest's acpid powered it off: qemu exits 0, no signal, no kill
    assert result is not None and result.successful(), result
    assert "Power down" in Path(cfg.stdout_path).read_text(errors="replace")


def test_port_map_forwards_the_allocated_host_port(driver: QemuDriver, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = TestQemuConformance().task_config(
        tmp_path,
        guest("nomadic_mode=sleep", port_map={"web": 80}),
        NOMAD_HOST_PORT_web=str(port),
        NOMAD_HOST_IP_web="127.0.0.1",
    )
    driver.start_task(cfg)
    try:
        # user-mode networking listens on the host port once qemu has initialised
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10):
                    break
            except ConnectionRefusedError:
                assert driver.wait_task(cfg.id, 0) is None, "qemu exited"
                assert time.monotonic() < deadline, f"nothing listens on port {port}"
                time.sleep(0.05)
    finally:
        driver.destroy_task(cfg.id, force=True)


def test_config_errors(driver: QemuDriver, tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="image_path"):
        driver.start_task(TestQemuConformance().task_config(tmp_path, {"args": []}))
    with pytest.raises(DriverError, match="does not exist"):
        driver.start_task(TestQemuConformance().task_config(tmp_path, {"image_path": "nope.img"}))
    with pytest.raises(DriverError, match="accelerator"):
        driver.start_task(
            TestQemuConformance().task_config(tmp_path, guest("x", accelerator="hvf"))
        )
    with pytest.raises(DriverError, match="port_map label 'db'"):
        driver.start_task(
            TestQemuConformance().task_config(tmp_path, guest("x", port_map={"db": 5432}))
        )
