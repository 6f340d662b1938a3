"""The TaskDriver base class: the API every task driver implements (Nomad's DriverPlugin).

The API is synchronous; the client calls it from a thread pool, so a method may block (waiting
for a process, pulling an image) without stalling the agent. Only ``name``, ``fingerprint``,
``start_task``, ``wait_task``, ``stop_task``, ``destroy_task`` and ``inspect_task`` are required;
the optional calls raise :class:`~nomadic.errors.DriverError` saying the driver does not
support them, so a minimal driver is a few dozen lines.

Task lifecycle as the client drives it::

    start_task ──> wait_task ──(exit)──> destroy_task
        │              ▲
        └─ stop_task ──┘ (signal, kill_timeout, then kill)
    recover_task(handle) re-attaches after a client restart, then wait_task as usual.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from nomadic.errors import DriverError

from .exec import ExecStreams
from .records import (
    Capabilities,
    ExecResult,
    ExitResult,
    Fingerprint,
    TaskConfig,
    TaskHandle,
    TaskResourceUsage,
    TaskStatus,
)

__all__ = ["TaskDriver"]


class TaskDriver(abc.ABC):
    """Base of every task driver. Subclasses set ``name`` and implement the abstract methods."""

    #: The name jobs use in ``driver = "<name>"``; unique across loaded plugins.
    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    def capabilities(self) -> Capabilities:
        """What this driver supports; the default is the least: no signals, no exec."""
        return Capabilities()

    def set_config(self, config: dict[str, Any]) -> None:
        """Receive the agent's ``plugin "<name>" { config { ... } }`` block (may be empty).

        Raise :class:`~nomadic.errors.ConfigError` for bad settings, naming the key.
        """
        self.config = dict(config)

    @abc.abstractmethod
    def fingerprint(self) -> Fingerprint:
        """Is the driver usable on this node, and what attributes does it add?"""

    @abc.abstractmethod
    def start_task(self, config: TaskConfig) -> TaskHandle:
        """Start the task and return a handle. Raise DriverError(recoverable=...) on failure."""

    @abc.abstractmethod
    def wait_task(self, task_id: str, timeout: float | None = None) -> ExitResult | None:
        """Block until the task exits (its result) or ``timeout`` seconds pass (``None``)."""

    @abc.abstractmethod
    def stop_task(self, task_id: str, timeout_s: float, signal: str = "") -> None:
        """Send ``signal`` (the driver's default when empty), wait up to ``timeout_s`` seconds,
        then kill the task forcibly. Returns once the task is dead."""

    @abc.abstractmethod
    def destroy_task(self, task_id: str, force: bool = False) -> None:
        """Forget the task and free its resources. A running task is refused unless ``force``,
        in which case it is killed first."""

    @abc.abstractmethod
    def inspect_task(self, task_id: str) -> TaskStatus:
        """The driver's view of one task; raises DriverError for an unknown task ID."""

    def task_stats(self, task_id: str) -> TaskResourceUsage:
        """Resource usage of the task right now."""
        raise self._unsupported("task_stats")

    def signal_task(self, task_id: str, signal: str) -> None:
        """Deliver ``signal`` (a name such as ``SIGHUP``) to the task."""
        raise self._unsupported("signal_task")

    def exec_task(self, task_id: str, cmd: list[str], timeout: float) -> ExecResult:
        """Run ``cmd`` inside the task's environment and return its output."""
        raise self._unsupported("exec_task")

    def exec_task_streaming(
        self, task_id: str, command: list[str], tty: bool, streams: ExecStreams
    ) -> ExitResult:
        """Run ``command`` inside the task's environment, interactively (``nomadic alloc
        exec``): copy its output to ``streams``, feed it ``streams.next_input()`` (stdin,
        stdin close, terminal resizes; with ``tty`` on a pseudo-terminal) and return once it
        has exited. Kill it and return when ``streams.cancelled`` turns true. Drivers whose
        tasks are local processes can return :func:`nomadic.plugin.run_process_exec`.
        Report ``Capabilities(exec=True)`` when implemented."""
        raise self._unsupported("exec_task_streaming")

    def recover_task(self, handle: TaskHandle) -> None:
        """Re-attach to a task started by an earlier client process (or driver instance)."""
        raise self._unsupported("recover_task")

    def shutdown(self) -> None:
        """The agent is stopping; release driver-wide resources. Tasks keep running."""
        return None

    def _unsupported(self, what: str) -> DriverError:
        return DriverError(f"{what} is not supported by driver {self.name!r}")
