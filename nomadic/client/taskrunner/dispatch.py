"""The dispatch hook: write a dispatched job's payload into the task (Nomad's
``taskrunner/dispatch_hook.go``), at ``local/<dispatch_payload.file>``."""

from __future__ import annotations

from pathlib import Path

from nomadic.structs import Allocation, Task

__all__ = ["write_dispatch_payload"]


def write_dispatch_payload(alloc: Allocation, task: Task, local: Path) -> Path | None:
    """Write the payload if the task asks for it; returns the file written, if any."""
    if task.dispatch_payload is None or not task.dispatch_payload.file:
        return None
    payload = alloc.job.payload if alloc.job is not None else None
    if payload is None:
        return None
    target = (local / task.dispatch_payload.file).resolve()
    if not target.is_relative_to(local.resolve()):
        raise ValueError(
            f"dispatch_payload file {task.dispatch_payload.file!r} leaves the task's local/ dir"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)
    return target
