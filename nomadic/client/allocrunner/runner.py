"""AllocRunner: the I/O half of an allocation's lifecycle around :class:`AllocRunnerState`.

It builds the alloc dir, creates one TaskRunner per task, relays task state changes into
the machine and runs what it decides (start, kill siblings, report status to the client).
For an allocation of a deployment it also watches its health (health.py) and hands the
verdict to the machine, which reports it with the allocation's status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nomadic.errors import NotFoundError, ValidationError
from nomadic.plugin import ExecStreams, ExitResult, TaskResourceUsage
from nomadic.structs import Allocation, TaskGroup, TaskState, to_builtins

from ..allocdir import AllocDir
from ..context import RunnerContext, now_ns
from ..state import SavedTask
from ..taskrunner.runner import TaskRunner
from .health import AllocHealthTracker
from .state import (
    AllocDirReady,
    AllocRestored,
    AllocRunnerState,
    AllocStart,
    AllocUpdated,
    BuildAllocDir,
    Event,
    HealthDecided,
    Instruction,
    KillTask,
    ReportStatus,
    StartTask,
    TaskUpdated,
)

__all__ = ["AllocRunner"]

log = logging.getLogger("nomadic.client.allocrunner")


class AllocRunner:
    def __init__(self, alloc: Allocation, ctx: RunnerContext) -> None:
        self.alloc = alloc
        self.ctx = ctx
        self.alloc_dir = AllocDir.for_alloc(ctx.config.alloc_dir, alloc.id)
        self.group = _group(alloc)
        self.machine = AllocRunnerState(alloc, self.group)
        self.tasks: dict[str, TaskRunner] = {}
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._loop_task: asyncio.Task[None] | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._health_changed = asyncio.Event()
        self._health_deployment = ""

    def start(self) -> None:
        log.info(
            "running allocation",
            extra={
                "alloc_id": self.alloc.id,
                "job_id": self.alloc.job_id,
                "task_group": self.alloc.task_group,
            },
        )
        self._start_loop()
        self._events.put_nowait(AllocStart())

    def restore(self, saved: dict[str, SavedTask]) -> None:
        """Take over after a client restart: re-attach running tasks, start unstarted ones."""
        self._start_loop()
        states: dict[str, TaskState] = {}
        for task in self.group.tasks:
            entry = saved.get(task.name)
            state = entry.state if entry else TaskState()
            states[task.name] = state
            if state.state == "dead":
                continue
            runner = TaskRunner(
                self.alloc, task, self.alloc_dir, self.ctx, self._on_task, state=state
            )
            self.tasks[task.name] = runner
            if entry is not None and entry.handle is not None:
                runner.recover(entry.handle)
            else:
                runner.start()
        self._events.put_nowait(AllocRestored(states))

    def _start_loop(self) -> None:
        if self.ctx.db is not None:
            self.ctx.db.put_alloc(self.alloc)
        self._loop_task = asyncio.get_running_loop().create_task(
            self._run(), name=f"alloc-{self.alloc.id[:8]}"
        )
        self._watch_health()

    def _watch_health(self) -> None:
        """Start judging health when the allocation joined a deployment with no verdict yet."""
        alloc = self.alloc
        if alloc.deployment_id == self._health_deployment or alloc.server_terminal():
            return
        tracker = AllocHealthTracker.for_alloc(alloc, self.group, now_ns())
        if tracker is None:
            return
        self._health_deployment = alloc.deployment_id
        self.machine.deployment_status = None  # a verdict for another deployment is void
        if self._health_task is not None:
            self._health_task.cancel()
        self._health_task = asyncio.get_running_loop().create_task(
            self._judge_health(tracker), name=f"alloc-health-{alloc.id[:8]}"
        )

    async def _judge_health(self, tracker: AllocHealthTracker) -> None:
        while not self.alloc.server_terminal():  # a stopped allocation gets no verdict
            now = now_ns()
            tracker.observe(self.machine.states, now)
            verdict = tracker.verdict(now)
            if verdict is not None:
                log.info(
                    "allocation health: %s",
                    "healthy" if verdict else "unhealthy",
                    extra={"alloc_id": self.alloc.id, "deployment_id": self._health_deployment},
                )
                self._events.put_nowait(HealthDecided(verdict))
                return
            wait = tracker.next_check(now)
            self._health_changed.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._health_changed.wait()
            except TimeoutError:
                pass

    def update(self, alloc: Allocation) -> None:
        self.alloc = alloc
        if self.ctx.db is not None:
            self.ctx.db.put_alloc(alloc)
        self._events.put_nowait(AllocUpdated(alloc))
        if self._loop_task is not None:
            self._watch_health()

    @property
    def terminal(self) -> bool:
        return self.machine.terminal

    async def kill_and_wait(self) -> None:
        """Stop every task (kill signal, kill timeout) and wait until they are dead."""
        for runner in list(self.tasks.values()):
            runner.kill()
        await asyncio.gather(*(r.wait_dead() for r in self.tasks.values()))

    async def shutdown(self) -> None:
        """Stop supervising; tasks keep running."""
        await asyncio.gather(*(r.shutdown() for r in self.tasks.values()))
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task

    def task_runner(self, name: str) -> TaskRunner:
        runner = self.tasks.get(name)
        if runner is None:
            names = ", ".join(t.name for t in self.group.tasks)
            if self.group.lookup_task(name) is None:
                raise NotFoundError(
                    f"unknown task name {name!r} in allocation {self.alloc.id}; "
                    f"its tasks are: {names}"
                )
            raise ValidationError(f"Task not running: task {name!r} has not started")
        return runner

    def restart(self, task: str, all_tasks: bool) -> None:
        """Nomad's RestartTask / RestartRunning / RestartAll, with its event reasons."""
        if task:
            self.task_runner(task).restart("User requested task to restart")
            return
        reason = (
            "User requested all tasks to restart"
            if all_tasks
            else "User requested running tasks to restart"
        )
        running = [r for r in self.tasks.values() if r.machine.running]
        if not running:
            raise ValidationError(f"Task not running: allocation {self.alloc.id} runs no task")
        for runner in running:
            runner.restart(reason)

    async def signal(self, task: str, signal: str) -> None:
        """Signal one task, or every running task when ``task`` is empty."""
        if task:
            await self.task_runner(task).signal(signal)
            return
        errors = []
        for name, runner in self.tasks.items():
            try:
                await runner.signal(signal)
            except Exception as exc:
                errors.append(f"Failed to signal task: {name}, err: {exc}")
        if errors:
            raise ValidationError(errors)

    async def exec_streaming(
        self, task: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        return await self.task_runner(task).exec_streaming(command, tty, streams)

    async def stats(self) -> dict[str, Any]:
        """Nomad's AllocResourceUsage JSON."""
        tasks: dict[str, TaskResourceUsage] = {}
        for name, runner in self.tasks.items():
            usage = await runner.stats()
            if usage is not None:
                tasks[name] = usage
        total = TaskResourceUsage(timestamp=now_ns())
        for usage in tasks.values():
            mem, cpu = total.resource_usage.memory_stats, total.resource_usage.cpu_stats
            mem.rss += usage.resource_usage.memory_stats.rss
            mem.usage += usage.resource_usage.memory_stats.usage
            cpu.percent += usage.resource_usage.cpu_stats.percent
            cpu.total_ticks += usage.resource_usage.cpu_stats.total_ticks
            mem.measured = usage.resource_usage.memory_stats.measured
            cpu.measured = usage.resource_usage.cpu_stats.measured
        return {
            "ResourceUsage": to_builtins(total.resource_usage),
            "Tasks": {name: to_builtins(u) for name, u in tasks.items()},
            "Timestamp": total.timestamp,
        }

    async def _run(self) -> None:
        while True:
            event = await self._events.get()
            for instruction in self.machine.handle(event, now_ns()):
                await self._execute(instruction)
            self._health_changed.set()

    async def _execute(self, instruction: Instruction) -> None:
        match instruction:
            case BuildAllocDir():
                try:
                    names = [t.name for t in self.group.tasks]
                    await self.ctx.run(self.alloc_dir.build, names)
                except OSError as exc:
                    log.error(
                        "alloc %s: cannot build alloc dir: %s",
                        self.alloc.id,
                        exc,
                        extra={"alloc_id": self.alloc.id, "job_id": self.alloc.job_id},
                    )
                    self._events.put_nowait(AllocDirReady(error=str(exc)))
                else:
                    self._events.put_nowait(AllocDirReady())
            case StartTask(task=name):
                task = self.group.lookup_task(name)
                assert task is not None
                runner = TaskRunner(self.alloc, task, self.alloc_dir, self.ctx, self._on_task)
                self.tasks[name] = runner
                runner.start()
            case KillTask(task=name, reason=reason, failed_sibling=sibling):
                if name in self.tasks:
                    self.tasks[name].kill(reason, sibling)
            case ReportStatus(update=update):
                self.ctx.report(update)

    def _on_task(self, name: str, state: TaskState) -> None:
        self._events.put_nowait(TaskUpdated(name, state))


def _group(alloc: Allocation) -> TaskGroup:
    group = alloc.job.lookup_task_group(alloc.task_group) if alloc.job else None
    return group or TaskGroup(name=alloc.task_group)
