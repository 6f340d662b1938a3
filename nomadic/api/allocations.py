"""``client.allocations``: list, read, stop allocations, read their resource usage, and act on
their tasks on the client (signal, restart, exec)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from nomadic.structs import Allocation, AllocListStub
from nomadic.structs.requests import AllocStopResponse

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Allocations"]


class Allocations:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(
        self, prefix: str = "", *, index: int = 0, wait: float | None = None
    ) -> builtins.list[AllocListStub]:
        return self._c.query(
            "/v1/allocations",
            list[AllocListStub],
            params={"prefix": prefix},
            index=index,
            wait=wait,
        )

    def info(self, alloc_id: str, *, index: int = 0, wait: float | None = None) -> Allocation:
        return self._c.query(f"/v1/allocation/{alloc_id}", Allocation, index=index, wait=wait)

    def stop(self, alloc_id: str) -> AllocStopResponse:
        return self._c.write("PUT", f"/v1/allocation/{alloc_id}/stop", AllocStopResponse)

    def stats(self, alloc_id: str) -> dict[str, Any]:
        return self._c.query(f"/v1/client/allocation/{alloc_id}/stats", dict[str, Any])

    def signal(self, alloc_id: str, signal: str, task: str = "") -> None:
        """Send ``signal`` to ``task`` (every task when empty)."""
        body = {"Task": task, "Signal": signal}
        self._c.request("POST", f"/v1/client/allocation/{alloc_id}/signal", body=body)

    def restart(self, alloc_id: str, task: str = "", *, all_tasks: bool = False) -> None:
        """Restart ``task``, the running tasks (no task) or, with ``all_tasks``, every task."""
        body = {"TaskName": task, "AllTasks": all_tasks}
        self._c.request("POST", f"/v1/client/allocation/{alloc_id}/restart", body=body)

    def exec(
        self,
        alloc_id: str,
        task: str,
        command: builtins.list[str],
        *,
        tty: bool = False,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO,
        stderr: BinaryIO,
        terminal_size: Callable[[], tuple[int, int] | None] | None = None,
    ) -> int:
        """Run ``command`` in the task interactively; returns its exit code. See
        :func:`nomadic.api.exec.exec_session`."""
        from nomadic.api.exec import exec_session

        return exec_session(
            self._c,
            alloc_id,
            task,
            command,
            tty=tty,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            terminal_size=terminal_size,
        )
