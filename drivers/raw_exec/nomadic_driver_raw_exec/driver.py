"""RawExecDriver: runs a task's command directly on the host, with no isolation (Nomad's raw_exec).

Agent config (``plugin "raw_exec" { config { enabled = true } }``): ``enabled`` (default false,
as in Nomad; ``-dev`` turns it on). Task config: ``command`` (required), ``args``, ``work_dir``.

Stopping follows Nomad's executor: send the kill signal (SIGINT unless the task sets
``kill_signal``) to the task process, wait up to the kill timeout, then SIGKILL the task's
whole process group so no descendant outlives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from nomadic.plugin import (
    Capabilities,
    ConfigError,
    DriverError,
    ExecResult,
    ExecStreams,
    ExitResult,
    Fingerprint,
    TaskConfig,
    TaskDriver,
    TaskHandle,
    TaskResourceUsage,
    TaskStatus,
    TaskTable,
    destroy_guard,
    run_process_exec,
)

from . import process

HANDLE_VERSION = 1
DEFAULT_KILL_SIGNAL = signal.SIGINT


@dataclass
class _Task:
    handle: TaskHandle
    pid: int
    started: float  # process create time, to tell a reused PID apart
    started_at: int
    cwd: str
    waiter: process.Waiter
    last_cpu: tuple[float, float] = (0.0, 0.0)  # (monotonic seconds, cpu seconds)
    lock: threading.Lock = field(default_factory=threading.Lock)


class RawExecDriver(TaskDriver):
    name = "raw_exec"

    def __init__(self) -> None:
        super().__init__()
        self.enabled = False
        self._tasks: TaskTable[_Task] = TaskTable("raw_exec")

    def set_config(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - {"enabled"})
        if unknown:
            raise ConfigError(
                f'plugin "raw_exec": unknown config key(s) {", ".join(unknown)}; '
                "the only key is enabled"
            )
        enabled = config.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ConfigError(f'plugin "raw_exec": enabled must be true or false, got {enabled!r}')
        super().set_config(config)
        self.enabled = enabled

    def capabilities(self) -> Capabilities:
        return Capabilities(send_signals=True, exec=True, net_isolation_modes=["host", "group"])

    def fingerprint(self) -> Fingerprint:
        if not self.enabled:
            return Fingerprint(
                detected=False,
                healthy=False,
                health_description='disabled; set plugin "raw_exec" { config { enabled = true } }',
            )
        return Fingerprint(
            detected=True,
            healthy=True,
            health_description="Healthy",
            attributes={"driver.raw_exec": "1"},
        )

    def start_task(self, config: TaskConfig) -> TaskHandle:
        self._tasks.check_new(config.id)
        argv, cwd = self._command(config)
        stdout = process.open_output(config.stdout_path)
        stderr = process.open_output(config.stderr_path)
        try:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=config.env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            raise DriverError(
                f"failed to start task {config.name!r}: {argv[0]}: {exc.strerror or exc}"
            ) from exc
        finally:
            stdout.close()
            stderr.close()
        started = process.create_time(popen.pid)
        handle = TaskHandle(
            driver=self.name,
            task_id=config.id,
            config=config,
            driver_state={"pid": popen.pid, "start_time": started, "cwd": cwd},
            version=HANDLE_VERSION,
        )
        task = _Task(handle, popen.pid, started, time.time_ns(), cwd, process.Waiter())
        task.waiter.watch_child(popen)
        self._tasks.add(config.id, task)
        return handle

    def _command(self, config: TaskConfig) -> tuple[list[str], str]:
        cfg = config.config
        command = cfg.get("command")
        if not isinstance(command, str) or not command:
            raise DriverError(
                f'task {config.name!r}: raw_exec needs config {{ command = "..." }}: '
                "the program to run"
            )
        args = cfg.get("args", [])
        if not isinstance(args, list):
            raise DriverError(f"task {config.name!r}: config args must be a list of strings")
        work_dir = cfg.get("work_dir") or config.task_dir or os.getcwd()
        if not os.path.isabs(work_dir) and config.task_dir:
            work_dir = os.path.join(config.task_dir, work_dir)
        if not os.path.isdir(work_dir):
            raise DriverError(f"task {config.name!r}: work_dir {work_dir} is not a directory")
        return [command, *(str(a) for a in args)], str(work_dir)

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        task = self._get(task_id)
        if not task.waiter.done.wait(timeout):
            return None
        return task.waiter.result

    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._get(task_id)
        sig = self._signal(signal, DEFAULT_KILL_SIGNAL)
        procs = self._tree(task)
        if not task.waiter.done.is_set():
            try:
                os.kill(task.pid, sig)
            except ProcessLookupError:
                pass
            task.waiter.done.wait(max(timeout_s, 0.0))
        # Like Nomad's executor: whatever is left of the tree dies now.
        process.kill_tree(task.pid, procs + self._tree(task))
        task.waiter.done.wait(5.0)

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        task = self._tasks.find(task_id)
        if task is None:
            return
        destroy_guard(
            task_id,
            not task.waiter.done.is_set(),
            force,
            lambda: self.stop_task(task_id, 0.0, "SIGKILL"),
        )
        self._tasks.remove(task_id)

    def inspect_task(self, task_id: str) -> TaskStatus:
        task = self._get(task_id)
        done = task.waiter.done.is_set()
        return TaskStatus(
            id=task_id,
            name=task.handle.config.name,
            state="exited" if done else "running",
            started_at=task.started_at,
            completed_at=task.waiter.finished_at,
            exit_result=task.waiter.result,
            driver_attributes={"pid": str(task.pid)},
        )

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        task = self._get(task_id)
        usage, cpu_seconds = process.usage(task.pid)
        now = time.monotonic()
        with task.lock:
            prev_time, prev_cpu = task.last_cpu
            task.last_cpu = (now, cpu_seconds)
        if prev_time:
            elapsed = max(now - prev_time, 1e-6)
            percent = max(cpu_seconds - prev_cpu, 0.0) / elapsed * 100.0
        else:
            created = task.started
            percent = cpu_seconds / max(time.time() - created, 1e-6) * 100.0
        usage.cpu_stats.percent = percent
        usage.cpu_stats.total_ticks = percent / 100.0 * _mhz_per_core()
        return TaskResourceUsage(resource_usage=usage, timestamp=time.time_ns())

    def signal_task(self, task_id: str, signal: str) -> None:
        task = self._get(task_id)
        try:
            sig = process.signal_number(signal, DEFAULT_KILL_SIGNAL)
        except ValueError as exc:
            raise DriverError(f"task {task_id}: {exc}") from exc
        try:
            os.kill(task.pid, sig)
        except ProcessLookupError:
            raise DriverError(f"task {task_id} is not running") from None

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        task = self._get(task_id)
        if not cmd:
            raise DriverError("exec needs a command")
        try:
            done = subprocess.run(
                cmd,
                cwd=task.cwd,
                env=task.handle.config.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DriverError(f"exec {cmd[0]!r} timed out after {timeout}s") from exc
        except OSError as exc:
            raise DriverError(f"exec {cmd[0]!r} failed: {exc.strerror or exc}") from exc
        code = done.returncode if done.returncode >= 0 else 128 - done.returncode
        return ExecResult(exit_code=code, stdout=done.stdout, stderr=done.stderr)

    def exec_task_streaming(
        self, task_id: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        task = self._get(task_id)
        return run_process_exec(
            command, cwd=task.cwd, env=task.handle.config.env, tty=tty, streams=streams
        )

    def recover_task(self, handle: TaskHandle) -> None:
        if handle.task_id in self._tasks:
            return
        try:
            pid = int(handle.driver_state["pid"])
            started = float(handle.driver_state["start_time"])
            cwd = str(handle.driver_state.get("cwd", handle.config.task_dir))
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError(f"task {handle.task_id}: handle has no usable driver state") from exc
        if not process.alive(pid, started):
            raise DriverError(f"task {handle.task_id}: process {pid} is no longer running")
        task = _Task(handle, pid, started, int(started * 1e9), cwd, process.Waiter())
        task.waiter.watch_foreign(pid, started)
        self._tasks.add(handle.task_id, task)

    @staticmethod
    def _tree(task: _Task) -> list[psutil.Process]:
        """The task's process tree, or nothing once its PID may belong to someone else."""
        return process.tree(task.pid) if process.alive(task.pid, task.started) else []

    def _get(self, task_id: str) -> _Task:
        return self._tasks.get(task_id)

    @staticmethod
    def _signal(name: str, default: signal.Signals) -> signal.Signals:
        try:
            return process.signal_number(name, default)
        except ValueError as exc:
            raise DriverError(str(exc)) from exc


def _mhz_per_core() -> float:
    freq = psutil.cpu_freq()
    return float(freq.max or freq.current) if freq and (freq.max or freq.current) else 1000.0
