"""Task events as Nomad writes them: exact type strings and display messages.

``nomadic alloc status`` prints ``DisplayMessage``; these builders fill it the way Nomad's
``PopulateEventDisplayMessage`` does, so the text users see matches Nomad's.
"""

from __future__ import annotations

from nomadic.structs import TaskEvent
from nomadic.structs.consts import (
    TASK_ARTIFACT_DOWNLOAD_FAILED,
    TASK_DOWNLOADING_ARTIFACTS,
    TASK_DRIVER_FAILURE,
    TASK_KILLED,
    TASK_KILLING,
    TASK_NOT_RESTARTING,
    TASK_RECEIVED,
    TASK_RESTART_SIGNAL,
    TASK_RESTARTING,
    TASK_SETUP,
    TASK_SETUP_FAILURE,
    TASK_SIBLING_FAILED,
    TASK_SIGNALING,
    TASK_STARTED,
    TASK_TERMINATED,
)

from ..durations import go_duration

__all__ = [
    "artifact_download_failed",
    "downloading_artifacts",
    "driver_failure",
    "killed",
    "killing",
    "not_restarting",
    "received",
    "restart_signaled",
    "restarting",
    "setup_failure",
    "signaling",
    "started",
    "task_setup",
    "terminated",
]


def received(now: int) -> TaskEvent:
    return TaskEvent(type=TASK_RECEIVED, time=now, display_message="Task received by client")


def task_setup(now: int, message: str = "Building Task Directory") -> TaskEvent:
    return TaskEvent(type=TASK_SETUP, time=now, message=message, display_message=message)


def downloading_artifacts(now: int) -> TaskEvent:
    message = "Client is downloading artifacts"
    return TaskEvent(type=TASK_DOWNLOADING_ARTIFACTS, time=now, display_message=message)


def artifact_download_failed(now: int, error: str) -> TaskEvent:
    return TaskEvent(
        type=TASK_ARTIFACT_DOWNLOAD_FAILED,
        time=now,
        download_error=error,
        display_message=error,
        details={"download_error": error},
    )


def setup_failure(now: int, error: str) -> TaskEvent:
    return TaskEvent(
        type=TASK_SETUP_FAILURE,
        time=now,
        setup_error=error,
        fails_task=True,
        display_message=error,
        details={"setup_error": error, "fails_task": "true"},
    )


def started(now: int) -> TaskEvent:
    return TaskEvent(type=TASK_STARTED, time=now, display_message="Task started by client")


def driver_failure(now: int, error: str) -> TaskEvent:
    return TaskEvent(
        type=TASK_DRIVER_FAILURE,
        time=now,
        driver_error=error,
        display_message=error,
        details={"driver_error": error},
    )


def terminated(
    now: int, exit_code: int, signal: int, err: str = "", oom_killed: bool = False
) -> TaskEvent:
    message = f"Exit Code: {exit_code}"
    if signal:
        message += f", Signal: {signal}"
    if err:
        message += f", Exit Message: {err!r}"
    details = {"exit_code": str(exit_code), "signal": str(signal)}
    if err:
        details["exit_message"] = err
    if oom_killed:  # Nomad's Terminated event: OOMKilled detail and "OOM Killed" message
        details["oom_killed"] = "true"
        err = err or "OOM Killed"
        message += ", OOM Killed"
    return TaskEvent(
        type=TASK_TERMINATED,
        time=now,
        exit_code=exit_code,
        signal=signal,
        message=err,
        display_message=message,
        details=details,
    )


def restarting(now: int, delay: int, reason: str) -> TaskEvent:
    return TaskEvent(
        type=TASK_RESTARTING,
        time=now,
        start_delay=delay,
        restart_reason=reason,
        display_message=f"Task restarting in {go_duration(delay)}",
        details={"start_delay": str(delay), "restart_reason": reason},
    )


def not_restarting(now: int, reason: str) -> TaskEvent:
    return TaskEvent(
        type=TASK_NOT_RESTARTING,
        time=now,
        restart_reason=reason,
        fails_task=True,
        display_message=reason,
        details={"restart_reason": reason, "fails_task": "true"},
    )


def killing(now: int, kill_timeout: int, reason: str = "", failed_sibling: str = "") -> TaskEvent:
    if failed_sibling:
        return TaskEvent(
            type=TASK_SIBLING_FAILED,
            time=now,
            kill_timeout=kill_timeout,
            display_message=f"Task's sibling {failed_sibling!r} failed",
            details={"failed_sibling": failed_sibling},
        )
    display = f"Sent interrupt. Waiting {go_duration(kill_timeout)} before force killing"
    return TaskEvent(
        type=TASK_KILLING,
        time=now,
        kill_timeout=kill_timeout,
        kill_reason=reason,
        display_message=display,
        details={"kill_timeout": go_duration(kill_timeout), "kill_reason": reason},
    )


def killed(now: int, error: str = "") -> TaskEvent:
    display = f"Task killed with error: {error}" if error else "Task successfully killed"
    return TaskEvent(
        type=TASK_KILLED, time=now, kill_error=error, display_message=display, details={}
    )


def restart_signaled(now: int, reason: str) -> TaskEvent:
    """A user asked for a restart (``alloc restart``); Nomad shows the reason."""
    return TaskEvent(
        type=TASK_RESTART_SIGNAL,
        time=now,
        restart_reason=reason,
        display_message=reason or "Task signaled to restart",
        details={"restart_reason": reason} if reason else {},
    )


def signaling(now: int, signal: str, reason: str = "") -> TaskEvent:
    """A signal is being sent to the task (``alloc signal``), worded as Nomad words it."""
    if signal and reason:
        message = f"Task being sent signal {signal}: {reason}"
    elif signal:
        message = f"Task being sent signal {signal}"
    else:
        message = reason or "Task being sent a signal"
    return TaskEvent(
        type=TASK_SIGNALING,
        time=now,
        task_signal=signal,
        task_signal_reason=reason,
        display_message=message,
        details={"signal": signal} if signal else {},
    )
