"""MockDriver: pretends to run tasks, so the scheduler and clients can be driven at scale
without processes (Nomad's ``drivers/mock``).

Agent config: ``enabled`` (default false, so a real agent that happens to have the plugin
installed never offers it). Task config (every key optional):

- ``run_for`` (duration, ``"30s"``, ``"1m30s"``, ``"500ms"``; default 0): how long the task
  "runs" before it exits on its own; 0 means it exits at once.
- ``exit_code`` (int, default 0): the exit code when ``run_for`` is over.
- ``start_error`` (string): ``start_task`` fails with this message;
  ``start_error_recoverable`` (bool) says whether the client may retry it.
- ``kill_after`` (duration, default 0): how long the task takes to die after the stop signal;
  longer than the kill timeout means it is killed (signal 9) at the timeout.
- ``stdout_string`` (string): written to the task's stdout when it starts.

Signals SIGINT, SIGTERM, SIGQUIT and SIGKILL end the task with that signal; others are recorded
and ignored. ``exec_task`` understands only ``echo``. Stats report the task's ``memory`` ask
(or 1 MiB) as RSS.

Tasks live in a process-wide table, the stand-in for the host's process table: a new driver
instance (a restarted client) re-attaches to them with ``recover_task``.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from nomadic.plugin import (
    Capabilities,
    ConfigError,
    DriverError,
    ExecResult,
    ExitResult,
    Fingerprint,
    MemoryStats,
    ResourceUsage,
    TaskConfig,
    TaskDriver,
    TaskHandle,
    TaskResourceUsage,
    TaskStatus,
)

__all__ = ["MockDriver", "parse_duration"]

HANDLE_VERSION = 1
MIB = 1024 * 1024
_CONFIG_KEYS = frozenset(
    {
        "run_for",
        "exit_code",
        "start_error",
        "start_error_recoverable",
        "kill_after",
        "stdout_string",
    }
)
_ENDING_SIGNALS = {"SIGINT", "SIGTERM", "SIGQUIT", "SIGKILL"}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(value: object, key: str) -> float:
    """A Go-style duration (``"1m30s"``) or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ConfigError(f'mock driver: {key} must be a duration such as "30s", got {value!r}')
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text in ("", "0"):
        return 0.0
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ConfigError(
            f'mock driver: {key} = {value!r} is not a duration; use e.g. "500ms", "30s", "1m30s"'
        )
    return total


@dataclass
class _Spec:
    run_for: float = 0.0
    exit_code: int = 0
    start_error: str = ""
    start_error_recoverable: bool = False
    kill_after: float = 0.0
    stdout_string: str = ""

    @classmethod
    def parse(cls, config: dict[str, Any]) -> _Spec:
        unknown = sorted(set(config) - _CONFIG_KEYS)
        if unknown:
            raise DriverError(
                f"mock driver: unknown task config key(s) {', '.join(unknown)}; "
                f"known keys are {', '.join(sorted(_CONFIG_KEYS))}"
            )
        exit_code = config.get("exit_code", 0)
        if isinstance(exit_code, bool) or not isinstance(exit_code, int):
            raise DriverError(f"mock driver: exit_code must be an integer, got {exit_code!r}")
        try:
            return cls(
                run_for=parse_duration(config.get("run_for", 0), "run_for"),
                exit_code=exit_code,
                start_error=str(config.get("start_error", "")),
                start_error_recoverable=bool(config.get("start_error_recoverable", False)),
                kill_after=parse_duration(config.get("kill_after", 0), "kill_after"),
                stdout_string=str(config.get("stdout_string", "")),
            )
        except ConfigError as exc:
            raise DriverError(str(exc)) from None


@dataclass
class _MockTask:
    """One pretend process; exits on its own at ``started + run_for`` unless stopped first."""

    handle: TaskHandle
    spec: _Spec
    started_at: int  # unix ns
    deadline: float  # time.time() when run_for is over
    result: ExitResult | None = None
    completed_at: int = 0
    signals: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self) -> ExitResult | None:
        with self.lock:
            if self.result is None and time.time() >= self.deadline:
                self._finish(ExitResult(exit_code=self.spec.exit_code), self.deadline)
            return self.result

    def end(self, result: ExitResult) -> None:
        with self.lock:
            if self.result is None:
                self._finish(result, time.time())

    def _finish(self, result: ExitResult, at: float) -> None:
        self.result = result
        self.completed_at = int(at * 1e9)
        self.done.set()


# The "host": every mock task of this process, whichever driver instance started it.
_HOST: dict[str, _MockTask] = {}
_HOST_LOCK = threading.Lock()


class MockDriver(TaskDriver):
    name = "mock"

    def __init__(self) -> None:
        super().__init__()
        self.enabled = False
        self._known: set[str] = set()

    def set_config(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - {"enabled"})
        if unknown:
            raise ConfigError(
                f'plugin "mock": unknown config key(s) {", ".join(unknown)}; '
                "the only key is enabled"
            )
        enabled = config.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ConfigError(f'plugin "mock": enabled must be true or false, got {enabled!r}')
        super().set_config(config)
        self.enabled = enabled

    def capabilities(self) -> Capabilities:
        return Capabilities(send_signals=True, exec=True)

    def fingerprint(self) -> Fingerprint:
        if not self.enabled:
            return Fingerprint(
                health_description='disabled; set plugin "mock" { config { enabled = true } }'
            )
        return Fingerprint(
            detected=True,
            healthy=True,
            health_description="Healthy",
            attributes={"driver.mock": "1"},
        )

    def start_task(self, config: TaskConfig) -> TaskHandle:
        spec = _Spec.parse(config.config)
        if spec.start_error:
            raise DriverError(spec.start_error, recoverable=spec.start_error_recoverable)
        now = time.time()
        handle = TaskHandle(
            driver=self.name,
            task_id=config.id,
            config=config,
            driver_state={"started_at": int(now * 1e9), "deadline": now + spec.run_for},
            version=HANDLE_VERSION,
        )
        task = _MockTask(handle, spec, int(now * 1e9), now + spec.run_for)
        with _HOST_LOCK:
            _HOST[config.id] = task
        self._known.add(config.id)
        if spec.stdout_string:
            _write_output(config.stdout_path, spec.stdout_string)
        return handle

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        task = self._task(task_id)
        end = None if timeout is None else time.monotonic() + timeout
        while (result := task.poll()) is None:
            remaining = task.deadline - time.time()
            if end is not None:
                remaining = min(remaining, end - time.monotonic())
                if remaining <= 0:
                    return None
            task.done.wait(max(remaining, 0.0))
        return result

    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._task(task_id)
        if task.poll() is not None:
            return
        sig = signal or "SIGINT"
        task.signals.append(sig)
        if task.spec.kill_after > timeout_s:
            task.done.wait(timeout_s)  # the task ignores the signal for now
            task.end(ExitResult(exit_code=137, signal=9))
            return
        if task.spec.kill_after > 0:
            task.done.wait(task.spec.kill_after)
        task.end(_signalled(sig))

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        task = self._task(task_id)
        if task.poll() is None:
            if not force:
                raise DriverError(f"task {task_id} is still running; stop it or use force")
            task.end(ExitResult(exit_code=137, signal=9))
        with _HOST_LOCK:
            _HOST.pop(task_id, None)
        self._known.discard(task_id)

    def inspect_task(self, task_id: str) -> TaskStatus:
        task = self._task(task_id)
        result = task.poll()
        return TaskStatus(
            id=task_id,
            name=task.handle.config.name,
            state="running" if result is None else "exited",
            started_at=task.started_at,
            completed_at=task.completed_at,
            exit_result=result,
        )

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        task = self._task(task_id)
        rss = (task.handle.config.memory_mb or 1) * MIB
        return TaskResourceUsage(
            resource_usage=ResourceUsage(memory_stats=MemoryStats(rss=rss, measured=["RSS"])),
            timestamp=time.time_ns(),
        )

    def signal_task(self, task_id: str, signal: str) -> None:
        task = self._task(task_id)
        if task.poll() is not None:
            raise DriverError(f"task {task_id} has exited; cannot signal it")
        task.signals.append(signal)
        if signal in _ENDING_SIGNALS:
            task.end(_signalled(signal))

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        task = self._task(task_id)
        if task.poll() is not None:
            raise DriverError(f"task {task_id} has exited; cannot exec in it")
        if cmd and os.path.basename(cmd[0]) == "echo":
            return ExecResult(exit_code=0, stdout=(" ".join(cmd[1:]) + "\n").encode())
        return ExecResult(exit_code=127, stderr=b"mock driver: only echo can be exec'd\n")

    def recover_task(self, handle: TaskHandle) -> None:
        task_id = handle.task_id
        with _HOST_LOCK:
            task = _HOST.get(task_id)
        if task is None:  # another process's "host": rebuild from the handle if still due
            deadline = float(handle.driver_state.get("deadline", 0.0))
            if deadline <= time.time():
                raise DriverError(f"task {task_id} is gone; cannot recover it")
            spec = _Spec.parse(handle.config.config)
            started = int(handle.driver_state.get("started_at", 0))
            task = _MockTask(handle, spec, started, deadline)
            with _HOST_LOCK:
                _HOST[task_id] = task
        if task.poll() is not None:
            raise DriverError(f"task {task_id} has exited; cannot recover it")
        self._known.add(task_id)

    def _task(self, task_id: str) -> _MockTask:
        with _HOST_LOCK:
            task = _HOST.get(task_id) if task_id in self._known else None
        if task is None:
            raise DriverError(f"mock driver: unknown task {task_id}")
        return task


def _signalled(sig: str) -> ExitResult:
    num = int(getattr(signal.Signals, sig, signal.SIGTERM))
    return ExitResult(exit_code=128 + num, signal=num)


def _write_output(path: str, text: str) -> None:
    """Write to the task's stdout; a log FIFO with no reader yet is skipped, not waited on."""
    if not path:
        return
    try:
        is_fifo = os.path.exists(path) and stat.S_ISFIFO(os.stat(path).st_mode)
        flags = os.O_WRONLY | (os.O_NONBLOCK if is_fifo else os.O_CREAT | os.O_APPEND)
        fd = os.open(path, flags, 0o644)
    except OSError:
        return
    try:
        os.write(fd, text.encode())
    except OSError:
        pass
    finally:
        os.close(fd)
