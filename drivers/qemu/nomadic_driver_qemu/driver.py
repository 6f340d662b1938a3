"""QemuDriver: boots a virtual machine image with qemu-system-x86_64 (Nomad's qemu driver).

Task config: ``image_path`` (required; relative to the task dir, or absolute),
``accelerator`` (``tcg``, the default, or ``kvm`` when /dev/kvm opens), ``drive_interface``
(default ``ide``), ``graceful_shutdown`` (stop by ACPI ``system_powerdown`` through the QEMU
monitor socket, then kill after the kill timeout), ``port_map`` (``{ label = guest port }``:
user-mode networking forwards the host port the scheduler allocated for ``label`` to the guest
port) and ``args`` (appended to the qemu command line). Memory is the task's ``resources``.

QEMU exits cleanly (status 0) on SIGINT, SIGTERM and SIGHUP; when it does so after the driver
delivered one of those, the exit is reported as that signal, as for any other task.

The VM runs under the exec driver's executor without filesystem isolation (it is already
isolated by the hypervisor), so it survives a client restart like every supervised task.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from nomadic_driver_exec import IsolatedDriver, Isolation
from nomadic_driver_exec.sandbox import state_dir

from nomadic.plugin import (
    Capabilities,
    ConfigError,
    DriverError,
    ExitResult,
    Fingerprint,
    TaskConfig,
)

BINARY = "qemu-system-x86_64"
TASK_KEYS = {
    "image_path",
    "accelerator",
    "drive_interface",
    "graceful_shutdown",
    "port_map",
    "args",
}
MONITOR = "qemu-monitor.sock"
POWERDOWN_INTERVAL = 1.0
TERMINATING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def parse_version(output: str) -> str:
    match = re.search(r"version (\d+\.\d+\.\d+)", output)
    return match.group(1) if match else ""


def kvm_usable() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


class QemuDriver(IsolatedDriver):
    name = "qemu"

    def __init__(self) -> None:
        super().__init__()
        self.binary = ""
        self._signalled: dict[str, int] = {}
        self._signal_lock = threading.Lock()

    def set_config(self, config: dict[str, Any]) -> None:
        if config:
            raise ConfigError(
                f'plugin "qemu": unknown config key(s) {", ".join(sorted(config))}; '
                "the qemu driver takes no plugin config"
            )
        super().set_config(config)

    def capabilities(self) -> Capabilities:
        return Capabilities(send_signals=True, exec=True, fs_isolation="image")

    def fingerprint(self) -> Fingerprint:
        binary = shutil.which(BINARY)
        if binary is None:
            return Fingerprint(health_description=f"{BINARY} not found on the client's PATH")
        try:
            done = subprocess.run(
                [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Fingerprint(detected=True, health_description=f"{binary} --version: {exc}")
        version = parse_version(done.stdout)
        if not version:
            return Fingerprint(detected=True, health_description=f"cannot parse {binary} version")
        self.binary = binary
        return Fingerprint(
            detected=True,
            healthy=True,
            health_description="Healthy",
            attributes={"driver.qemu": "1", "driver.qemu.version": version},
        )

    def task_command(self, config: TaskConfig) -> tuple[list[str], str, Isolation]:
        cfg = config.config
        unknown = sorted(set(cfg) - TASK_KEYS)
        if unknown:
            raise DriverError(
                f"task {config.name!r}: unknown qemu config key(s) {', '.join(unknown)}; "
                f"valid keys: {', '.join(sorted(TASK_KEYS))}"
            )
        task_root = os.path.dirname(config.task_dir) if config.task_dir else os.getcwd()
        image = cfg.get("image_path")
        if not isinstance(image, str) or not image:
            raise DriverError(
                f'task {config.name!r}: qemu needs config {{ image_path = "local/disk.img" }}'
            )
        image = os.path.join(task_root, image)
        if not os.path.isfile(image):
            raise DriverError(f"task {config.name!r}: image_path {image} does not exist")
        binary = self.binary or shutil.which(BINARY)
        if not binary:
            raise DriverError(f"task {config.name!r}: {BINARY} is not installed on this client")
        accel = str(cfg.get("accelerator") or "tcg")
        if accel not in ("tcg", "kvm"):
            raise DriverError(f'task {config.name!r}: accelerator must be "tcg" or "kvm"')
        if accel == "kvm" and not kvm_usable():
            raise DriverError(
                f'task {config.name!r}: accelerator "kvm" needs a usable /dev/kvm on the '
                'client; use accelerator = "tcg"'
            )
        memory = config.memory_max_mb or config.memory_mb or 128
        interface = str(cfg.get("drive_interface") or "ide")
        monitor = state_dir(config.id) / MONITOR
        argv = [
            binary,
            "-machine", f"type=pc,accel={accel}",
            "-name", config.name,
            "-m", f"{memory}M",
            "-drive", f"file={image},if={interface},format=raw",
            "-nographic",
            "-monitor", f"unix:{monitor},server,nowait",
        ]  # fmt: skip
        if accel == "kvm":
            argv += ["-cpu", "host"]
        argv += self._port_map(config)
        args = cfg.get("args", [])
        if not isinstance(args, list):
            raise DriverError(f"task {config.name!r}: config args must be a list of strings")
        argv += [str(a) for a in args]
        return argv, task_root, Isolation(enabled=False)

    @staticmethod
    def _port_map(config: TaskConfig) -> list[str]:
        port_map = config.config.get("port_map") or {}
        if isinstance(port_map, list):  # HCL blocks decode to a list of maps
            merged: dict[str, Any] = {}
            for item in port_map:
                merged.update(item)
            port_map = merged
        if not isinstance(port_map, dict):
            raise DriverError(f"task {config.name!r}: port_map must map port labels to ports")
        forwards = []
        for label, guest in sorted(port_map.items()):
            host = config.env.get(f"NOMAD_HOST_PORT_{label}")
            if not host:
                raise DriverError(
                    f"task {config.name!r}: port_map label {label!r} is not a port of this "
                    f'allocation; add network {{ port "{label}" {{}} }} to the group'
                )
            ip = config.env.get(f"NOMAD_HOST_IP_{label}", "")
            for proto in ("tcp", "udp"):
                forwards.append(f"hostfwd={proto}:{ip}:{host}-:{int(guest)}")
        if not forwards:
            return []
        return [
            "-netdev",
            ",".join(["user,id=user.0", *forwards]),
            "-device",
            "virtio-net,netdev=user.0",
        ]

    # ---- stopping -------------------------------------------------------------------------
    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._get(task_id)
        if task.handle.config.config.get("graceful_shutdown") and not task.done.is_set():
            # ACPI power button presses; repeated, as a guest still booting may miss one
            deadline = time.monotonic() + max(timeout_s, 0.0)
            while not task.done.is_set() and (left := deadline - time.monotonic()) > 0:
                if not self._monitor(task.state / MONITOR, "system_powerdown"):
                    break
                task.done.wait(min(left, POWERDOWN_INTERVAL))
            timeout_s = max(deadline - time.monotonic(), 0.0)
        super().stop_task(task_id, timeout_s, signal)

    def _send(self, task: Any, sig: int) -> None:
        if sig in TERMINATING:
            with self._signal_lock:
                self._signalled[task.handle.task_id] = sig
        super()._send(task, sig)

    def exit_result(self, task_id: str, result: ExitResult) -> ExitResult:
        with self._signal_lock:
            sig = self._signalled.pop(task_id, 0)
        if sig and result.exit_code == 0 and not result.signal:
            return ExitResult(exit_code=128 + sig, signal=sig)
        return result

    @staticmethod
    def _monitor(path: os.PathLike[str], command: str) -> bool:
        """Send one HMP command to the QEMU monitor socket; False when it cannot be reached."""
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5.0)
            sock.connect(os.fspath(path))
            _read_until(sock, b"(qemu) ")  # the banner and the first prompt
            sock.sendall(command.encode() + b"\n")
            # qemu drops input it has not read yet when the peer hangs up: wait until the
            # monitor has echoed the command and prompted again, i.e. it ran the command
            _read_until(sock, b"\r\n(qemu) ")
            return True
        return False


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    """Read from the monitor until ``marker`` arrives (OSError on timeout or hang-up)."""
    seen = b""
    while marker not in seen:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the QEMU monitor closed the connection")
        seen += chunk
    return seen
