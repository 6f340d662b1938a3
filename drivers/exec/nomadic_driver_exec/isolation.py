"""IsolatedDriver: the task lifecycle shared by the exec and java drivers.

Each task is owned by an executor process (``executor.py``) in its own session, so it survives
a restart of the client; the handle records the executor's PID (and start time, to tell a
reused PID apart), the PID of the task namespace's init, and the state dir where the executor
writes the exit result. A subclass provides ``fingerprint`` and :meth:`task_command` (the argv,
working directory and :class:`~.sandbox.Isolation` of a task).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import psutil

from nomadic.plugin import (
    Capabilities,
    CpuStats,
    DriverError,
    ExecResult,
    ExecStreams,
    ExitResult,
    MemoryStats,
    ResourceUsage,
    TaskConfig,
    TaskDriver,
    TaskHandle,
    TaskResourceUsage,
    TaskStatus,
    TaskTable,
    destroy_guard,
    run_process_exec,
)

from . import cgroups, sandbox

EXECUTOR = str(Path(__file__).with_name("executor.py"))
HANDLE_VERSION = 1
START_TIMEOUT = 30.0
POLL_INTERVAL = 0.05


@dataclass
class _Task:
    handle: TaskHandle
    executor_pid: int
    executor_start: float
    init_pid: int
    state: Path
    cgroup: cgroups.TaskCgroup | None
    started_at: int
    done: threading.Event = field(default_factory=threading.Event)
    result: ExitResult | None = None
    finished_at: int = 0
    last_cpu: tuple[float, float] = (0.0, 0.0)


class IsolatedDriver(TaskDriver):
    """Runs each task under an executor, isolated as :meth:`task_command` says."""

    kill_signal = signal.SIGINT  # Nomad's default kill signal

    def __init__(self) -> None:
        super().__init__()
        self._tasks: TaskTable[_Task] = TaskTable(self.name)

    def task_command(self, config: TaskConfig) -> tuple[list[str], str, sandbox.Isolation]:
        """(argv, working directory, isolation) for a task; raise DriverError for bad config."""
        raise NotImplementedError

    def capabilities(self) -> Capabilities:
        return Capabilities(
            send_signals=True,
            exec=True,
            fs_isolation="chroot",
            net_isolation_modes=["host"],
            mount_configs="all",
        )

    # ---- start ----------------------------------------------------------------------------
    def start_task(self, config: TaskConfig) -> TaskHandle:
        self._tasks.check_new(config.id)
        argv, cwd, iso = self.task_command(config)
        state = sandbox.state_dir(config.id)
        cgroup = None
        try:
            if iso.enabled:
                cgroup = cgroups.TaskCgroup.create(
                    state.name, config.memory_mb, config.memory_max_mb, config.cpu_shares
                )
            spec = sandbox.build_spec(config, argv, cwd, iso, cgroup, state)
            (state / "spec.json").write_bytes(msgspec.json.encode(spec))
            (state / "result.json").unlink(missing_ok=True)
            popen, init_pid = self._spawn(config, state)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(state, ignore_errors=True)
            raise
        handle = TaskHandle(
            driver=self.name,
            task_id=config.id,
            config=config,
            driver_state={
                "executor_pid": popen.pid,
                "executor_start": _create_time(popen.pid),
                "init_pid": init_pid,
                "state_dir": str(state),
                "cgroup": {"version": cgroup.version, "dirs": cgroup.dirs} if cgroup else None,
            },
            version=HANDLE_VERSION,
        )
        task = self._track(handle, time.time_ns())
        threading.Thread(
            target=self._reap, args=(task, popen), name=f"{self.name}-wait", daemon=True
        ).start()
        return handle

    def _spawn(self, config: TaskConfig, state: Path) -> tuple[subprocess.Popen[bytes], int]:
        ready_r, ready_w = os.pipe()
        try:
            with open(state / "executor.log", "ab") as log:
                popen = subprocess.Popen(
                    [*_executor("run", state), str(ready_w)],
                    pass_fds=(ready_w,),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
        finally:
            os.close(ready_w)
        try:
            report = _read_all(ready_r, START_TIMEOUT)
        finally:
            os.close(ready_r)
        init_pid, error = 0, ""
        for line in report.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "pid":
                init_pid = int(rest)
            elif kind == "error":
                error = rest
        if error or not init_pid:
            popen.wait(10)
            log_tail = (state / "executor.log").read_text(errors="replace")[-400:].strip()
            why = error or log_tail or "the executor exited without starting the task"
            raise DriverError(f"failed to start task {config.name!r}: {why}")
        return popen, init_pid

    def _track(self, handle: TaskHandle, started_at: int) -> _Task:
        ds = handle.driver_state
        cg = ds.get("cgroup")
        task = _Task(
            handle=handle,
            executor_pid=int(ds["executor_pid"]),
            executor_start=float(ds["executor_start"]),
            init_pid=int(ds["init_pid"]),
            state=Path(ds["state_dir"]),
            cgroup=cgroups.TaskCgroup(int(cg["version"]), dict(cg["dirs"])) if cg else None,
            started_at=started_at,
        )
        self._tasks.add(handle.task_id, task)
        return task

    # ---- wait -----------------------------------------------------------------------------
    def _reap(self, task: _Task, popen: subprocess.Popen[bytes] | None) -> None:
        if popen is not None:
            popen.wait()
        else:
            while _alive(task.executor_pid, task.executor_start):
                time.sleep(POLL_INTERVAL)
        self._finish(task)

    def _finish(self, task: _Task) -> None:
        try:
            data = msgspec.json.decode((task.state / "result.json").read_bytes())
            result = ExitResult(
                exit_code=int(data["exit_code"]),
                signal=int(data["signal"]),
                oom_killed=bool(data.get("oom_killed")),
                err="OOM Killed" if data.get("oom_killed") else "",
            )
        except (OSError, ValueError, KeyError, msgspec.DecodeError):
            result = ExitResult(
                exit_code=137, signal=9, err="the task's executor died; its exit is unknown"
            )
        task.result = self.exit_result(task.handle.task_id, result)
        task.finished_at = time.time_ns()
        task.done.set()

    def exit_result(self, task_id: str, result: ExitResult) -> ExitResult:
        """Hook: the driver's view of how the task ended (the executor's report by default)."""
        return result

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        task = self._get(task_id)
        if not task.done.wait(timeout):
            return None
        return task.result

    # ---- stop, signal, destroy ------------------------------------------------------------
    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._get(task_id)
        sig = _signal(signal, self.kill_signal)
        if not task.done.is_set():
            self._send(task, sig)
            task.done.wait(max(timeout_s, 0.0))
        if not task.done.is_set():
            self._kill(task)
        task.done.wait(10.0)

    def _send(self, task: _Task, sig: int) -> None:
        if task.done.is_set() or not _alive(task.executor_pid, task.executor_start):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(task.init_pid, sig)

    def _kill(self, task: _Task) -> None:
        """Init dies -> the kernel kills its PID namespace; the cgroup catches the rest."""
        if _alive(task.executor_pid, task.executor_start):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(task.init_pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(task.init_pid, signal.SIGKILL)
        if task.cgroup is not None:
            task.cgroup.kill()

    def signal_task(self, task_id: str, signal: str) -> None:
        task = self._get(task_id)
        if task.done.is_set():
            raise DriverError(f"task {task_id} is not running")
        self._send(task, _signal(signal, self.kill_signal))

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        task = self._tasks.find(task_id)
        if task is None:
            return
        destroy_guard(
            task_id, not task.done.is_set(), force, lambda: self.stop_task(task_id, 0.0, "SIGKILL")
        )
        shutil.rmtree(task.state, ignore_errors=True)
        if task.cgroup is not None:
            task.cgroup.remove()  # normally gone already: the executor removes it
        self._tasks.remove(task_id)

    # ---- inspect, stats, exec, recover ----------------------------------------------------
    def inspect_task(self, task_id: str) -> TaskStatus:
        task = self._get(task_id)
        return TaskStatus(
            id=task_id,
            name=task.handle.config.name,
            state="exited" if task.done.is_set() else "running",
            started_at=task.started_at,
            completed_at=task.finished_at,
            exit_result=task.result,
            driver_attributes={"pid": str(task.init_pid)},
        )

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        task = self._get(task_id)
        if task.cgroup is not None:
            usage, cpu_seconds = _cgroup_usage(task.cgroup)
        else:
            usage, cpu_seconds = _tree_usage(task.init_pid)
        now = time.monotonic()
        prev_time, prev_cpu = task.last_cpu
        task.last_cpu = (now, cpu_seconds)
        elapsed = now - prev_time if prev_time else (time.time_ns() - task.started_at) / 1e9
        usage.cpu_stats.percent = max(cpu_seconds - prev_cpu, 0.0) / max(elapsed, 1e-6) * 100.0
        return TaskResourceUsage(resource_usage=usage, timestamp=time.time_ns())

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        task = self._get(task_id)
        if not cmd:
            raise DriverError("exec needs a command")
        if task.done.is_set():
            raise DriverError(f"task {task_id} is not running")
        argv = _executor("enter", task.state)
        try:
            done = subprocess.run(
                [*argv, str(task.init_pid), *cmd],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DriverError(f"exec {cmd[0]!r} timed out after {timeout}s") from exc
        return ExecResult(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)

    def exec_task_streaming(
        self, task_id: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        """``alloc exec``: the command runs in the task's namespaces, cgroup, root and user."""
        task = self._get(task_id)
        if not command:
            raise DriverError("exec needs a command")
        if task.done.is_set():
            raise DriverError(f"task {task_id} is not running")
        argv = [*_executor("enter", task.state), str(task.init_pid), *command]
        return run_process_exec(
            argv, cwd=str(task.state), env=task.handle.config.env, tty=tty, streams=streams
        )

    def recover_task(self, handle: TaskHandle) -> None:
        if handle.task_id in self._tasks:
            return
        try:
            pid = int(handle.driver_state["executor_pid"])
            started = float(handle.driver_state["executor_start"])
            result = Path(handle.driver_state["state_dir"]) / "result.json"
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError(f"task {handle.task_id}: handle has no usable driver state") from exc
        if not _alive(pid, started) or result.exists():
            raise DriverError(f"task {handle.task_id}: executor {pid} is no longer running")
        task = self._track(handle, int(started * 1e9))
        threading.Thread(
            target=self._reap, args=(task, None), name=f"{self.name}-poll", daemon=True
        ).start()

    def _get(self, task_id: str) -> _Task:
        return self._tasks.get(task_id)


def _executor(mode: str, state: Path) -> list[str]:
    """The executor's command line: stdlib only (-I -S), so it starts fast."""
    return [sys.executable, "-I", "-S", EXECUTOR, mode, str(state / "spec.json")]


def _read_all(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def _create_time(pid: int) -> float:
    return float(psutil.Process(pid).create_time())


def _alive(pid: int, started: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signal(name: str, default: int) -> int:
    if not name:
        return default
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    try:
        return int(signal.Signals[text if text.startswith("SIG") else "SIG" + text])
    except KeyError:
        raise DriverError(f"unknown signal {name!r}") from None


def _cgroup_usage(cg: cgroups.TaskCgroup) -> tuple[ResourceUsage, float]:
    mem = cg.memory()
    user, system, periods, throttled = cg.cpu()
    memory = MemoryStats(
        rss=mem["rss"] or mem["usage"],
        cache=mem["cache"],
        swap=mem["swap"],
        mapped_file=mem["mapped_file"],
        usage=mem["usage"],
        max_usage=mem["max_usage"],
        measured=["RSS", "Cache", "Swap", "Usage", "Max Usage"],
    )
    cpu = CpuStats(
        user_mode=user,
        system_mode=system,
        throttled_periods=periods,
        throttled_time=throttled,
        measured=["System Mode", "User Mode", "Throttled Periods", "Throttled Time", "Percent"],
    )
    return ResourceUsage(memory_stats=memory, cpu_stats=cpu), user + system


def _tree_usage(pid: int) -> tuple[ResourceUsage, float]:
    rss, user, system = 0, 0.0, 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error), proc.oneshot():
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                user, system = user + times.user, system + times.system
    memory = MemoryStats(rss=rss, usage=rss, measured=["RSS"])
    cpu = CpuStats(user_mode=user, system_mode=system, measured=["System Mode", "User Mode"])
    return ResourceUsage(memory_stats=memory, cpu_stats=cpu), user + system


def options(config: dict[str, Any], allowed: set[str], task: str, driver: str) -> None:
    """Reject unknown task config keys, naming them (Nomad validates against the schema)."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise DriverError(
            f"task {task!r}: unknown {driver} config key(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(sorted(allowed))}"
        )
