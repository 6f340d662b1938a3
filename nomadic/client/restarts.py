"""RestartTracker: decides whether a task that stopped is restarted, with Nomad's exact rules.

A pure object: the caller passes the time (unix nanoseconds) and the random source is
injectable, so tests are deterministic. Decision order of ``get_state`` (Nomad's
``restarts.go`` ``GetState``):

 1. killed                         -> Killed (dead)
 2. user-triggered restart          -> Restarting now
 3. attempts == 0                   -> Terminated if success and no restart-on-success,
                                       else Not Restarting ("Policy allows no restarts")
 4. interval elapsed since window start -> reset counter, new window
 5. count += 1
 6. not a failure                   -> no decision ("")
 7. start error not recoverable     -> Not Restarting ("Error was unrecoverable")
 8. success and not on_success      -> Terminated
 9. count > attempts                -> mode fail: Not Restarting; mode delay: Restarting at
                                       the end of the interval
10. otherwise                       -> Restarting after delay + jitter (up to 25% of delay)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from nomadic.structs import RestartPolicy, TaskLifecycle
from nomadic.structs.consts import (
    JOB_TYPE_BATCH,
    JOB_TYPE_SYSBATCH,
    RESTART_MODE_FAIL,
    TASK_KILLED,
    TASK_NOT_RESTARTING,
    TASK_RESTARTING,
    TASK_TERMINATED,
)

from .durations import go_duration

__all__ = [
    "REASON_DELAY",
    "REASON_NO_RESTARTS_ALLOWED",
    "REASON_UNRECOVERABLE",
    "REASON_WITHIN_POLICY",
    "RestartDecision",
    "RestartTracker",
    "restart_on_success",
]

JITTER = 0.25
REASON_NO_RESTARTS_ALLOWED = "Policy allows no restarts"
REASON_UNRECOVERABLE = "Error was unrecoverable"
REASON_WITHIN_POLICY = "Restart within policy"
REASON_DELAY = "Exceeded allowed attempts, applying a delay"
REASON_SUCCESS = "Restart unnecessary as task terminated successfully"


@dataclass(frozen=True)
class RestartDecision:
    state: str  # TASK_RESTARTING, TASK_NOT_RESTARTING, TASK_TERMINATED, TASK_KILLED or ""
    delay: int  # nanoseconds
    reason: str


def restart_on_success(job_type: str, lifecycle: TaskLifecycle | None) -> bool:
    """Nomad: service/system tasks restart after exit 0, batch ones do not; prestart and
    poststart tasks restart only when they are sidecars; poststop tasks never."""
    if lifecycle is not None and lifecycle.hook:
        return lifecycle.hook != "poststop" and lifecycle.sidecar
    return job_type not in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH)


class RestartTracker:
    def __init__(
        self,
        policy: RestartPolicy,
        job_type: str,
        lifecycle: TaskLifecycle | None = None,
        *,
        now: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.on_success = restart_on_success(job_type, lifecycle)
        self.rng = rng or random.Random()
        self.count = 0
        self.window_start = now
        self._exit_success: bool | None = None
        self._start_error_recoverable: bool | None = None
        self._restart_triggered = False
        self._killed = False
        self._failure = False

    def set_exit(self, successful: bool) -> RestartTracker:
        self._exit_success = successful
        self._failure = True
        return self

    def set_start_error(self, recoverable: bool) -> RestartTracker:
        self._start_error_recoverable = recoverable
        self._failure = True
        return self

    def set_restart_triggered(self) -> RestartTracker:
        self._restart_triggered = True
        return self

    def set_killed(self) -> RestartTracker:
        self._killed = True
        return self

    def get_state(self, now: int) -> RestartDecision:
        try:
            return self._decide(now)
        finally:
            self._exit_success = None
            self._start_error_recoverable = None
            self._restart_triggered = False
            self._killed = False
            self._failure = False

    def _decide(self, now: int) -> RestartDecision:
        if self._killed:
            return RestartDecision(TASK_KILLED, 0, "")
        if self._restart_triggered:
            return RestartDecision(TASK_RESTARTING, 0, "")
        if self.policy.attempts == 0:
            if not self.on_success and self._exit_success:
                return RestartDecision(TASK_TERMINATED, 0, REASON_NO_RESTARTS_ALLOWED)
            return RestartDecision(TASK_NOT_RESTARTING, 0, REASON_NO_RESTARTS_ALLOWED)
        if now > self.window_start + self.policy.interval:
            self.count = 0
            self.window_start = now
        self.count += 1
        if not self._failure:
            return RestartDecision("", 0, "")
        if self._start_error_recoverable is False:
            return RestartDecision(TASK_NOT_RESTARTING, 0, REASON_UNRECOVERABLE)
        if self._exit_success and not self.on_success:
            return RestartDecision(TASK_TERMINATED, 0, REASON_SUCCESS)
        if self.count > self.policy.attempts:
            if self.policy.mode == RESTART_MODE_FAIL:
                reason = (
                    f"Exceeded allowed attempts {self.policy.attempts} in interval "
                    f'{go_duration(self.policy.interval)} and mode is "fail"'
                )
                return RestartDecision(TASK_NOT_RESTARTING, 0, reason)
            delay = self.window_start + self.policy.interval - now
            return RestartDecision(TASK_RESTARTING, delay, REASON_DELAY)
        return RestartDecision(TASK_RESTARTING, self._jitter(), REASON_WITHIN_POLICY)

    def _jitter(self) -> int:
        delay = self.policy.delay or 1
        return delay + int(self.rng.randrange(delay) * JITTER)
