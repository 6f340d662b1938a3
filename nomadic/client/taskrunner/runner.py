"""TaskRunner: the I/O half of a task's lifecycle. It feeds :class:`TaskRunnerState` events and
runs the instructions it returns with the task driver, in the runner context's thread pools.

Long driver calls (``wait_task``, ``stop_task``) run as background jobs that post their outcome
back as events, so a kill can arrive while the runner waits for the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from nomadic.errors import DriverError, ValidationError
from nomadic.plugin import (
    Capabilities,
    ExecStreams,
    ExitResult,
    TaskConfig,
    TaskDriver,
    TaskHandle,
    TaskResourceUsage,
)
from nomadic.structs import Allocation, Task, TaskState
from nomadic.structs.consts import SECOND

from ..allocdir import AllocDir
from ..artifacts import ArtifactError, fetch_task_artifacts
from ..context import RunnerContext, now_ns
from ..logs import TaskLogs
from ..taskenv import build_task_env, interpolate_value
from ..templates import TemplateError, render_task_templates
from ..volumes import VolumeError, task_mounts
from .dispatch import write_dispatch_payload
from .state import (
    CancelRestart,
    DestroyTask,
    Event,
    Exited,
    Instruction,
    Kill,
    Recovered,
    RestartDue,
    RestartRequested,
    RunSetup,
    ScheduleRestart,
    SetupDone,
    SignalRequested,
    Start,
    Started,
    StartFailed,
    StartTask,
    StopFailed,
    StopTask,
    TaskRunnerState,
    UpdateState,
    WaitTask,
)

__all__ = ["TaskRunner"]

log = logging.getLogger("nomadic.client.taskrunner")

WAIT_POLL = 5.0  # seconds per wait_task call; the loop re-polls, so no thread is held forever


class TaskRunner:
    def __init__(
        self,
        alloc: Allocation,
        task: Task,
        alloc_dir: AllocDir,
        ctx: RunnerContext,
        on_state: Callable[[str, TaskState], None],
        *,
        state: TaskState | None = None,
    ) -> None:
        self.alloc = alloc
        self.task = task
        self.alloc_dir = alloc_dir
        self.ctx = ctx
        self.on_state = on_state
        job_type = alloc.job.type if alloc.job else "service"
        self.machine = TaskRunnerState(
            task,
            job_type,
            max_kill_timeout=ctx.config.max_kill_timeout,
            now=now_ns(),
            rng=ctx.rng,
            state=state,
        )
        self.driver: TaskDriver | None = ctx.drivers.get(task.driver)
        self.handle: TaskHandle | None = None
        self.logs = TaskLogs(alloc_dir.logs, task.name, task.log_config)
        self._config: TaskConfig | None = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._jobs: set[asyncio.Task[None]] = set()
        self._restart_timer: asyncio.TimerHandle | None = None
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def state(self) -> TaskState:
        return self.machine.state

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(
            self._run(), name=f"task-{self.alloc.id[:8]}-{self.task.name}"
        )
        self.post(Start())

    def recover(self, handle: TaskHandle) -> None:
        """Re-attach to a task a previous client process started (after a client restart)."""
        self._loop_task = asyncio.get_running_loop().create_task(
            self._run(), name=f"task-{self.alloc.id[:8]}-{self.task.name}"
        )
        self._spawn(self._recover(handle))

    async def _recover(self, handle: TaskHandle) -> None:
        self.handle = handle
        self._config = msgspec.structs.replace(handle.config, id="")
        error = ""
        if self.driver is None:
            error = f"driver {self.task.driver!r} is not available on this client"
        else:
            try:
                await self.ctx.run(self.driver.recover_task, handle)
            except Exception as exc:
                error = str(exc)
        if not error:
            await asyncio.to_thread(self.logs.start)
        self.post(Recovered())
        if error:
            log.warning("task %s could not be recovered: %s", handle.task_id, error)
            self.handle = None
            self.post(Exited(ExitResult(exit_code=0, err=f"failed to recover task: {error}")))

    def kill(self, reason: str = "", failed_sibling: str = "") -> None:
        self.post(Kill(reason, failed_sibling))

    def post(self, event: Event) -> None:
        self._events.put_nowait(event)

    async def wait_dead(self) -> None:
        if self._loop_task is not None:
            await asyncio.shield(self._loop_task)

    async def shutdown(self) -> None:
        """Stop supervising without killing the task (the client is going away)."""
        for job in list(self._jobs):
            job.cancel()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        await asyncio.to_thread(self.logs.stop)

    async def stats(self) -> TaskResourceUsage | None:
        if self.driver is None or self.handle is None or self.machine.dead:
            return None
        try:
            return await self.ctx.run(self.driver.task_stats, self.handle.task_id)
        except DriverError:
            return None

    def _running_handle(self) -> tuple[TaskDriver, TaskHandle]:
        if self.driver is None or self.handle is None or not self.machine.running:
            state = self.state.state
            raise ValidationError(f"Task not running: task {self.task.name!r} is {state}")
        return self.driver, self.handle

    def restart(self, reason: str) -> None:
        """Restart the running task now (a user request: not counted against the policy)."""
        self._running_handle()
        self.post(RestartRequested(reason))

    async def signal(self, signal: str) -> None:
        """Send ``signal`` to the running task, recording a "Signaling" event first."""
        driver, handle = self._running_handle()
        self.post(SignalRequested(signal))
        await self.ctx.run(driver.signal_task, handle.task_id, signal)

    async def exec_streaming(
        self, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        """Run ``command`` in the task's environment (``alloc exec``) until it exits."""
        driver, handle = self._running_handle()
        if not driver.capabilities().exec:
            raise DriverError(f"task driver {self.task.driver!r} does not support exec")
        return await self.ctx.wait(
            driver.exec_task_streaming, handle.task_id, command, tty, streams
        )

    async def _run(self) -> None:
        try:
            while not self.machine.dead:
                event = await self._events.get()
                for instruction in self.machine.handle(event, now_ns()):
                    await self._execute(instruction)
        finally:
            if self._restart_timer is not None:
                self._restart_timer.cancel()
            for job in list(self._jobs):
                job.cancel()
        await asyncio.to_thread(self.logs.stop)

    async def _execute(self, instruction: Instruction) -> None:
        match instruction:
            case UpdateState(state=state):
                if self.ctx.db is not None:
                    self.ctx.db.put_task(self.alloc.id, self.task.name, state, self.handle)
                self.on_state(self.task.name, state)
            case RunSetup():
                self._spawn(self._setup())
            case StartTask():
                self._spawn(self._start())
            case WaitTask():
                self._spawn(self._wait())
            case StopTask(timeout=timeout, signal=signal, delay=delay):
                self._spawn(self._stop(timeout, signal, delay))
            case DestroyTask():
                await self._destroy()
            case ScheduleRestart(delay=delay):
                loop = asyncio.get_running_loop()
                self._restart_timer = loop.call_later(delay / SECOND, self.post, RestartDue())
            case CancelRestart():
                if self._restart_timer is not None:
                    self._restart_timer.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        job = asyncio.get_running_loop().create_task(coro)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _setup(self) -> None:
        try:
            self._config = await self.ctx.run(self._build_config)
        except TemplateError as exc:
            self.post(SetupDone(error=f"Template failed: {exc}"))
        except ArtifactError as exc:
            self.post(SetupDone(artifact_error=str(exc)))
        except VolumeError as exc:
            self.post(SetupDone(error=f"failed to set up volumes: {exc}"))
        except Exception as exc:  # setup touches the filesystem and user input
            log.exception(
                "task %s of alloc %s: setup failed",
                self.task.name,
                self.alloc.id,
                extra={"alloc_id": self.alloc.id, "task": self.task.name},
            )
            self.post(SetupDone(error=f"failed to set up task directory: {exc}"))
        else:
            self.post(SetupDone())

    def _build_config(self) -> TaskConfig:
        node = self.ctx.node()
        caps = self.driver.capabilities() if self.driver is not None else Capabilities()
        mounts = task_mounts(self.alloc, self.task, node, caps)
        task_dir = self.alloc_dir.task(self.task.name)
        task_dir.build()
        write_dispatch_payload(self.alloc, self.task, task_dir.local)
        env = build_task_env(
            self.alloc,
            self.task,
            node,
            self.alloc_dir,
            host_env=self.ctx.host_env,
            denylist=self.ctx.config.env_denylist,
        )
        if self.task.artifacts:  # fetched before templates, which may read them (Nomad's order)
            fetch_task_artifacts(self.task, env, node, task_dir.root)
        if self.task.templates:  # rendered before the task starts; env = true ones feed env
            env.update(
                render_task_templates(self.task, env, task_dir.root, self.alloc_dir.root, node)
            )
        self.logs.start()
        stdout, stderr = self.logs.paths
        allocated = self.alloc.allocated_resources.tasks.get(self.task.name)
        job = self.alloc.job
        return TaskConfig(
            id="",
            name=self.task.name,
            alloc_id=self.alloc.id,
            job_id=self.alloc.job_id,
            job_name=job.name if job else self.alloc.job_id,
            task_group_name=self.alloc.task_group,
            namespace=self.alloc.namespace,
            node_id=node.id,
            node_name=node.name,
            env=env,
            cpu_shares=allocated.cpu.cpu_shares if allocated else self.task.resources.cpu,
            memory_mb=allocated.memory.memory_mb if allocated else self.task.resources.memory_mb,
            memory_max_mb=allocated.memory.memory_max_mb if allocated else 0,
            alloc_dir=str(self.alloc_dir.root),
            task_dir=str(task_dir.local),
            stdout_path=stdout,
            stderr_path=stderr,
            user=self.task.user,
            config=interpolate_value(self.task.config, env, node),
            mounts=mounts,
        )

    async def _start(self) -> None:
        if self.driver is None:
            reason = self.ctx.driver_errors.get(self.task.driver, "no plugin provides it")
            message = (
                f"failed to start task: driver {self.task.driver!r} is not available "
                f"on this client ({reason})"
            )
            self.post(StartFailed(message, recoverable=False))
            return
        assert self._config is not None
        task_id = f"{self.alloc.id}/{self.task.name}/{uuid.uuid4().hex[:8]}"
        config = msgspec.structs.replace(self._config, id=task_id)
        try:
            self.handle = await self.ctx.run(self.driver.start_task, config)
        except DriverError as exc:
            self.post(StartFailed(f"failed to launch command: {exc}", exc.recoverable))
        except Exception as exc:  # a third-party driver bug must only fail this task
            log.exception("driver %s crashed starting %s", self.task.driver, task_id)
            self.post(StartFailed(f"driver {self.task.driver!r} failed: {exc}", False))
        else:
            log.info(
                "task started",
                extra={
                    "alloc_id": self.alloc.id,
                    "job_id": self.alloc.job_id,
                    "task": self.task.name,
                    "driver": self.task.driver,
                },
            )
            self.post(Started())

    async def _wait(self) -> None:
        if self.driver is None or self.handle is None:
            return  # recovery failed; its Exited event is already queued
        task_id = self.handle.task_id
        while True:
            try:
                result = await self.ctx.wait(self.driver.wait_task, task_id, WAIT_POLL)
            except Exception as exc:
                result = ExitResult(exit_code=0, err=f"waiting for the task failed: {exc}")
            if result is not None:
                self.post(Exited(result))
                return

    async def _stop(self, timeout: int, signal: str, delay: int = 0) -> None:
        if delay > 0:  # shutdown_delay: let in-flight work drain before the kill signal
            await asyncio.sleep(delay / SECOND)
        if self.driver is None or self.handle is None:
            self.post(StopFailed("the task has no driver handle"))
            return
        try:
            await self.ctx.run(self.driver.stop_task, self.handle.task_id, timeout / SECOND, signal)
        except Exception as exc:
            log.warning("stopping task %s failed: %s", self.handle.task_id, exc)
            self.post(StopFailed(str(exc)))

    async def _destroy(self) -> None:
        if self.driver is None or self.handle is None:
            return
        try:
            await self.ctx.run(self.driver.destroy_task, self.handle.task_id, True)
        except Exception as exc:
            log.warning("destroying task %s failed: %s", self.handle.task_id, exc)
        self.handle = None
