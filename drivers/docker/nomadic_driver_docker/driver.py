"""DockerDriver: runs each task as a container through a local dockerd (Nomad's docker driver).

Agent config (``plugin "docker" { config { ... } }``): ``endpoint``, ``allow_privileged``
(false), ``volumes { enabled }`` (false), ``gc { image (true), image_delay ("3m"),
container (true) }``, ``extra_labels``. Task config: see :mod:`.config` and
``docs/driver-plugins.md``.

The docker SDK is imported lazily: without it the driver is reported undetected, and with
dockerd down it is detected but unhealthy, saying why. Each task has one waiter thread
(``wait`` calls with a deadline, repeated) and two log threads; stats use the one-shot stats
call (~10 ms) rather than ``stream=False`` (1-2 s, it waits for a second sample).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from nomadic.plugin import (
    Capabilities,
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
)

from . import stats
from .config import PluginConfig, TaskSpec
from .container import LogFollower, create_args
from .exec import exec_streaming
from .images import ImageGC, ensure_image

HANDLE_VERSION = 1
DEFAULT_KILL_SIGNAL = "SIGTERM"
WAIT_POLL = 30  # seconds per blocking wait call, so a restarted dockerd is noticed
FINGERPRINT_TIMEOUT = 5


@dataclass
class _Task:
    handle: TaskHandle
    container_id: str
    image: str  # the reference the task asked for: what the image GC untags
    started_at: int
    logs: LogFollower | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: ExitResult | None = None
    finished_at: int = 0
    signalled: int = 0  # the last signal we delivered, to explain an exit code of 128+N
    last_cpu: tuple[int, int] = (0, 0)  # (container cpu ns, system cpu ns)
    lock: threading.Lock = field(default_factory=threading.Lock)


class DockerDriver(TaskDriver):
    name = "docker"

    def __init__(self) -> None:
        super().__init__()
        self.plugin = PluginConfig()
        self._client: Any = None
        self._gc: ImageGC | None = None
        self._tasks: TaskTable[_Task] = TaskTable("docker")
        self._lock = threading.Lock()  # the docker client

    def set_config(self, config: dict[str, Any]) -> None:
        self.plugin = PluginConfig.parse(config)
        super().set_config(config)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            send_signals=True,
            exec=True,
            fs_isolation="image",
            net_isolation_modes=["host", "group", "task"],
            mount_configs="all",
        )

    # ---- the docker client ----------------------------------------------------------------
    def _docker(self, timeout: int = 60) -> Any:
        import docker

        if self.plugin.endpoint:
            return docker.DockerClient(
                base_url=self.plugin.endpoint, timeout=timeout, max_pool_size=256
            )
        return docker.from_env(timeout=timeout, max_pool_size=256)

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._docker()
                except Exception as exc:
                    raise DriverError(f"cannot reach dockerd: {exc}", recoverable=True) from exc
                self._gc = ImageGC(self._client, self.plugin)
            return self._client

    def fingerprint(self) -> Fingerprint:
        try:
            import docker  # noqa: F401
        except ImportError:
            return Fingerprint(
                detected=False,
                health_description="the docker SDK for Python is not installed "
                "(pip install docker)",
            )
        try:
            probe = self._docker(FINGERPRINT_TIMEOUT)
            try:
                version = probe.version()
                info_runtimes = probe.info().get("Runtimes", {})
            finally:
                probe.close()
        except Exception as exc:  # dockerd down, socket missing, permission denied ...
            return Fingerprint(
                detected=True,
                healthy=False,
                health_description=f"Failed to connect to docker daemon: {_short(exc)}",
            )
        attrs = {
            "driver.docker": "1",
            "driver.docker.version": str(version.get("Version", "")),
            "driver.docker.os_type": str(version.get("Os", "linux")),
            "driver.docker.runtimes": ",".join(sorted(info_runtimes)),
            "driver.docker.privileged.enabled": str(self.plugin.allow_privileged).lower(),
            "driver.docker.volumes.enabled": str(self.plugin.volumes_enabled).lower(),
        }
        return Fingerprint(
            detected=True, healthy=True, health_description="Healthy", attributes=attrs
        )

    # ---- lifecycle ------------------------------------------------------------------------
    def start_task(self, config: TaskConfig) -> TaskHandle:
        import docker.errors

        self._tasks.check_new(config.id)
        spec = TaskSpec.parse(config.name, config.config)
        client = self.client()
        args = create_args(config, spec, self.plugin)
        image_id, fetched = ensure_image(client, spec, config.name, config.task_dir)
        api = client.api
        host_config = api.create_host_config(**args.pop("host_config_args"))
        try:
            created = api.create_container(**args, host_config=host_config, detach=True)
            container_id = str(created["Id"])
        except docker.errors.APIError as exc:
            raise DriverError(
                f"task {config.name!r}: creating the container failed: {_short(exc)}"
            ) from exc
        try:
            api.start(container_id)
        except docker.errors.APIError as exc:
            self._remove(container_id)
            raise DriverError(
                f"task {config.name!r}: starting the container failed: {_short(exc)}"
            ) from exc
        assert self._gc is not None
        self._gc.acquire(spec.image, fetched)
        handle = TaskHandle(
            driver=self.name,
            task_id=config.id,
            config=config,
            driver_state={"container_id": container_id, "image_id": image_id, "image": spec.image},
            version=HANDLE_VERSION,
        )
        task = _Task(handle, container_id, spec.image, time.time_ns())
        task.logs = LogFollower(client, container_id, config, since=0)
        self._watch(task)
        return handle

    def recover_task(self, handle: TaskHandle) -> None:
        import docker.errors

        if handle.task_id in self._tasks:
            return
        container_id = str(handle.driver_state.get("container_id", ""))
        if not container_id:
            raise DriverError(f"task {handle.task_id}: handle has no container ID")
        client = self.client()
        try:
            state = client.api.inspect_container(container_id)["State"]
        except docker.errors.NotFound:
            raise DriverError(
                f"task {handle.task_id}: container {container_id[:12]} no longer exists"
            ) from None
        except docker.errors.APIError as exc:
            raise DriverError(f"task {handle.task_id}: {_short(exc)}", recoverable=True) from exc
        if not state.get("Running"):
            raise DriverError(
                f"task {handle.task_id}: container {container_id[:12]} is no longer running"
            )
        image = str(handle.driver_state.get("image", ""))
        assert self._gc is not None
        self._gc.acquire(image, False)
        task = _Task(handle, container_id, image, time.time_ns())
        # Output written while no client was following is in the container's log; what we
        # follow from now on is new, so nothing is copied twice.
        task.logs = LogFollower(client, container_id, handle.config, since=int(time.time()))
        self._watch(task)

    def _watch(self, task: _Task) -> None:
        self._tasks.add(task.handle.task_id, task)
        threading.Thread(
            target=self._wait_loop,
            args=(task,),
            name=f"docker-wait-{task.container_id[:12]}",
            daemon=True,
        ).start()

    def _wait_loop(self, task: _Task) -> None:
        import docker.errors
        import requests.exceptions

        api = self.client().api
        while not task.done.is_set():
            try:
                api.wait(task.container_id, timeout=WAIT_POLL)
                state = api.inspect_container(task.container_id)["State"]
            except (requests.exceptions.RequestException, docker.errors.APIError) as exc:
                if isinstance(exc, docker.errors.NotFound):
                    self._finish(task, ExitResult(exit_code=0, err="container was removed"))
                    return
                time.sleep(0.5 if not isinstance(exc, requests.exceptions.ReadTimeout) else 0)
                continue
            if state.get("Running"):
                continue
            self._finish(task, _exit_result(state, task.signalled))

    def _finish(self, task: _Task, result: ExitResult) -> None:
        if task.logs is not None:
            task.logs.join(5.0)  # the streams end with the container; let them drain
        with task.lock:
            if not task.done.is_set():
                task.result = result
                task.finished_at = time.time_ns()
                task.done.set()

    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        task = self._get(task_id)
        if not task.done.wait(timeout):
            return None
        return task.result

    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        task = self._get(task_id)
        if not task.done.is_set():
            self._kill(task, signal or DEFAULT_KILL_SIGNAL)
            if not task.done.wait(max(timeout_s, 0.0)):
                self._kill(task, "SIGKILL")
        task.done.wait(10.0)

    def destroy_task(self, task_id: str, force: bool = False) -> None:
        task = self._tasks.find(task_id)
        if task is None:
            return
        destroy_guard(
            task_id, not task.done.is_set(), force, lambda: self.stop_task(task_id, 0.0, "SIGKILL")
        )
        self._tasks.remove(task_id)
        if self.plugin.gc_container:
            self._remove(task.container_id)
        if self._gc is not None:
            self._gc.release(task.image)

    def inspect_task(self, task_id: str) -> TaskStatus:
        task = self._get(task_id)
        return TaskStatus(
            id=task_id,
            name=task.handle.config.name,
            state="exited" if task.done.is_set() else "running",
            started_at=task.started_at,
            completed_at=task.finished_at,
            exit_result=task.result,
            driver_attributes={"container_id": task.container_id},
        )

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        import docker.errors

        task = self._get(task_id)
        try:
            raw = self.client().api.stats(task.container_id, stream=False, one_shot=True)
        except docker.errors.APIError as exc:
            raise DriverError(f"task {task_id}: stats failed: {_short(exc)}") from exc
        with task.lock:
            usage, task.last_cpu = stats.convert(raw, task.last_cpu)
        return usage

    def signal_task(self, task_id: str, signal: str) -> None:
        task = self._get(task_id)
        if task.done.is_set():
            raise DriverError(f"task {task_id} is not running")
        self._kill(task, signal or DEFAULT_KILL_SIGNAL)

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        task = self._get(task_id)
        if not cmd:
            raise DriverError("exec needs a command")
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = self._exec(task, cmd)
            except Exception as exc:
                box["error"] = exc

        worker = threading.Thread(target=run, name="docker-exec", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise DriverError(f"exec {cmd[0]!r} timed out after {timeout}s")
        if "error" in box:
            error = box["error"]
            raise error if isinstance(error, DriverError) else DriverError(str(error))
        result: ExecResult = box["result"]
        return result

    def _exec(self, task: _Task, cmd: list[str]) -> ExecResult:
        import docker.errors

        api = self.client().api
        env = {k: v for k, v in task.handle.config.env.items() if k != "PATH"}
        try:
            exec_id = api.exec_create(task.container_id, cmd, environment=env)["Id"]
            out, err = api.exec_start(exec_id, demux=True)
            code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.APIError as exc:
            raise DriverError(f"exec {cmd[0]!r} failed: {_short(exc)}") from exc
        return ExecResult(exit_code=int(code or 0), stdout=out or b"", stderr=err or b"")

    def exec_task_streaming(
        self, task_id: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        task = self._get(task_id)
        if not command:
            raise DriverError("exec needs a command")
        env = {k: v for k, v in task.handle.config.env.items() if k != "PATH"}
        return exec_streaming(self.client().api, task.container_id, command, env, tty, streams)

    def shutdown(self) -> None:
        if self._gc is not None:
            self._gc.shutdown()

    # ---- helpers --------------------------------------------------------------------------
    def _kill(self, task: _Task, signal: str) -> None:
        import docker.errors

        number = stats.signal_number(signal)
        if number is None:
            raise DriverError(f"unknown signal {signal!r}")
        task.signalled = number
        try:
            self.client().api.kill(task.container_id, signal=number)
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: not running any more, which is fine
                raise DriverError(f"signalling the container failed: {_short(exc)}") from exc

    def _remove(self, container_id: str) -> None:
        import docker.errors

        try:
            self.client().api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise DriverError(f"removing container {container_id[:12]}: {_short(exc)}") from exc

    def _get(self, task_id: str) -> _Task:
        return self._tasks.get(task_id)


def _exit_result(state: dict[str, Any], signalled: int) -> ExitResult:
    code = int(state.get("ExitCode", 0))
    # Docker reports a signal death as exit code 128+N; we name N when we sent it.
    signal = code - 128 if signalled and code == 128 + signalled else 0
    if not signal and code == 137 and signalled:
        signal = 9  # our SIGKILL after the kill timeout
    return ExitResult(
        exit_code=code,
        signal=signal,
        oom_killed=bool(state.get("OOMKilled")),
        err=str(state.get("Error") or ""),
    )


def _short(exc: BaseException) -> str:
    return str(getattr(exc, "explanation", None) or exc).strip()
