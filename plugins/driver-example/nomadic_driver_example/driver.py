"""PyCallDriver: runs ``module:function`` in a child Python interpreter, one process per task.

Task config::

    config {
      callable = "http.server:test"       # module:function, importable by the agent's Python
      args     = ["--port", "8000"]        # strings passed as positional arguments
    }

The function's return value becomes the exit code when it is an int (``None`` is 0); an
uncaught exception prints its traceback to the task's stderr and exits 1.

A child process rather than a thread, because a task must outlive the client (the client
re-attaches after a restart through :meth:`recover_task`) and must be stoppable by a signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from nomadic.plugin import (
    Capabilities,
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

# What the child runs: import the module, call the function with the arguments.
RUNNER = (
    "import importlib, sys\n"
    "module, _, name = sys.argv[1].partition(':')\n"
    "result = getattr(importlib.import_module(module), name)(*sys.argv[2:])\n"
    "sys.exit(result if isinstance(result, int) else 0)\n"
)


@dataclass
class _Task:
    handle: TaskHandle
    pid: int
    started_at: int
    done: threading.Event = field(default_factory=threading.Event)
    result: ExitResult | None = None
    finished_at: int = 0

    def finish(self, result: ExitResult) -> None:
        if not self.done.is_set():
            self.result, self.finished_at = result, time.time_ns()
            self.done.set()


class PyCallDriver(TaskDriver):
    name = "pycall"

    def __init__(self) -> None:
        super().__init__()
        self._tasks: dict[str, _Task] = {}

    # ---- required ---------------------------------------------------------------------
    def fingerprint(self) -> Fingerprint:
        version = ".".join(str(v) for v in sys.version_info[:3])
        return Fingerprint(
            detected=True,
            healthy=True,
            health_description="Healthy",
            attributes={"driver.pycall": "1", "driver.pycall.python_version": version},
        )

    def start_task(self, config: TaskConfig) -> TaskHandle:
        target = config.config.get("callable")
        args = config.config.get("args", [])
        if not isinstance(target, str) or ":" not in target:
            raise DriverError(
                f'task {config.name!r}: pycall needs config {{ callable = "module:function" }}'
            )
        if not isinstance(args, list):
            raise DriverError(f"task {config.name!r}: config args must be a list of strings")
        argv = [sys.executable, "-c", RUNNER, target, *(str(a) for a in args)]
        with _output(config.stdout_path) as out, _output(config.stderr_path) as err:
            proc = subprocess.Popen(
                argv,
                cwd=config.task_dir or None,
                env=config.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: stop reaches its children
            )
        state = {"pid": proc.pid, "start": _start_time(proc.pid)}
        handle = TaskHandle(driver=self.name, task_id=config.id, config=config, driver_state=state)
        task = _Task(handle, proc.pid, time.time_ns())
        threading.Thread(target=lambda: task.finish(_exit(proc.wait())), daemon=True).start()
        self._tasks[config.id] = task
        return task.handle

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        task = self._get(task_id)
        return task.result if task.done.wait(timeout) else None

    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._get(task_id)
        self._kill(task, signal or "SIGTERM")
        if not task.done.wait(timeout_s):
            self._kill(task, "SIGKILL")
            task.done.wait(5.0)

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        if not task.done.is_set():
            if not force:
                raise DriverError(f"task {task_id} is still running; stop it first")
            self.stop_task(task_id, 0.0, "SIGKILL")
        del self._tasks[task_id]

    def inspect_task(self, task_id: str) -> TaskStatus:
        task = self._get(task_id)
        return TaskStatus(
            id=task_id,
            name=task.handle.config.name,
            state="exited" if task.done.is_set() else "running",
            started_at=task.started_at,
            completed_at=task.finished_at,
            exit_result=task.result,
        )

    # ---- optional: each one the base class would otherwise answer "not supported" -------
    def capabilities(self) -> Capabilities:
        return Capabilities(send_signals=True, exec=True)

    def signal_task(self, task_id: str, signal: str) -> None:
        self._kill(self._get(task_id), signal)

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        pid = self._get(task_id).pid
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError as exc:
            raise DriverError(f"task {task_id} is not running") from exc
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        memory = MemoryStats(rss=rss, usage=rss, measured=["RSS"])
        return TaskResourceUsage(
            resource_usage=ResourceUsage(memory_stats=memory), timestamp=time.time_ns()
        )

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        config = self._get(task_id).handle.config
        try:
            done = subprocess.run(
                cmd, cwd=config.task_dir or None, env=config.env, capture_output=True,
                timeout=timeout, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DriverError(f"exec {cmd[:1]} failed: {exc}") from exc
        return ExecResult(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)

    def recover_task(self, handle: TaskHandle) -> None:
        pid, start = handle.driver_state.get("pid", 0), handle.driver_state.get("start")
        if not pid or _start_time(pid) != start:  # gone, or the PID now belongs to another
            raise DriverError(f"task {handle.task_id}: process {pid} is no longer running")
        task = _Task(handle, pid, time.time_ns())

        def poll() -> None:  # not our child any more: we can see it end, not its exit code
            while _start_time(pid) == start:
                time.sleep(0.1)
            task.finish(ExitResult(err=f"process {pid} exited while the client was away"))

        threading.Thread(target=poll, daemon=True).start()
        self._tasks[handle.task_id] = task

    # ---- helpers ----------------------------------------------------------------------
    def _get(self, task_id: str) -> _Task:
        try:
            return self._tasks[task_id]
        except KeyError:
            raise DriverError(f"pycall: no task with ID {task_id!r}") from None

    def _kill(self, task: _Task, name: str) -> None:
        if task.done.is_set():
            return
        try:
            sig = signal.Signals[name if name.startswith("SIG") else f"SIG{name}"]
        except KeyError:
            raise DriverError(f"unknown signal {name!r}") from None
        try:
            os.killpg(task.pid, sig)
        except ProcessLookupError:
            pass


def _output(path: str) -> IO[bytes]:
    """The client hands us FIFOs; open them read-write so a restarting reader never makes the
    task's writes fail (a plain file, as in tests, is appended to)."""
    if not path:
        return open(os.devnull, "wb")
    return open(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644), "wb")


def _exit(code: int) -> ExitResult:
    return (
        ExitResult(exit_code=128 - code, signal=-code) if code < 0 else ExitResult(exit_code=code)
    )


def _start_time(pid: int) -> Any:
    """The process's start time (field 22 of /proc/<pid>/stat), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]
