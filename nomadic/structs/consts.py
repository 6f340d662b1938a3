"""Status and type names, spelled as Nomad spells them on the wire."""

from __future__ import annotations

from typing import Final

# Job types
JOB_TYPE_SERVICE: Final = "service"
JOB_TYPE_BATCH: Final = "batch"
JOB_TYPE_SYSTEM: Final = "system"
JOB_TYPE_SYSBATCH: Final = "sysbatch"
JOB_TYPES: Final = (JOB_TYPE_SERVICE, JOB_TYPE_BATCH, JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH)

# Job statuses
JOB_STATUS_PENDING: Final = "pending"
JOB_STATUS_RUNNING: Final = "running"
JOB_STATUS_DEAD: Final = "dead"

# Evaluation statuses
EVAL_STATUS_BLOCKED: Final = "blocked"
EVAL_STATUS_PENDING: Final = "pending"
EVAL_STATUS_COMPLETE: Final = "complete"
EVAL_STATUS_FAILED: Final = "failed"
EVAL_STATUS_CANCELLED: Final = "canceled"

# Evaluation triggers
TRIGGER_JOB_REGISTER: Final = "job-register"
TRIGGER_JOB_DEREGISTER: Final = "job-deregister"
TRIGGER_NODE_UPDATE: Final = "node-update"
TRIGGER_ALLOC_STOP: Final = "alloc-stop"
TRIGGER_ALLOC_FAILURE: Final = "alloc-failure"
TRIGGER_RETRY_FAILED_ALLOC: Final = "alloc-failure"
TRIGGER_QUEUED_ALLOCS: Final = "queued-allocs"
TRIGGER_MAX_PLANS: Final = "max-plan-attempts"
TRIGGER_FAILED_FOLLOW_UP: Final = "failed-follow-up"
TRIGGER_ALLOC_RESCHEDULE: Final = "alloc-reschedule"
TRIGGER_NODE_DRAIN: Final = "node-drain"
TRIGGER_PREEMPTION: Final = "preemption"
TRIGGER_ROLLING_UPDATE: Final = "rolling-update"

# Allocation desired statuses
ALLOC_DESIRED_RUN: Final = "run"
ALLOC_DESIRED_STOP: Final = "stop"
ALLOC_DESIRED_EVICT: Final = "evict"

# Allocation client statuses
ALLOC_CLIENT_PENDING: Final = "pending"
ALLOC_CLIENT_RUNNING: Final = "running"
ALLOC_CLIENT_COMPLETE: Final = "complete"
ALLOC_CLIENT_FAILED: Final = "failed"
ALLOC_CLIENT_LOST: Final = "lost"
ALLOC_CLIENT_UNKNOWN: Final = "unknown"
ALLOC_CLIENT_TERMINAL: Final = frozenset(
    {ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_LOST}
)

# Task states
TASK_STATE_PENDING: Final = "pending"
TASK_STATE_RUNNING: Final = "running"
TASK_STATE_DEAD: Final = "dead"

# Task event types (Nomad's exact strings; `alloc status` prints them)
TASK_RECEIVED: Final = "Received"
TASK_SETUP: Final = "Task Setup"
TASK_DRIVER_FAILURE: Final = "Driver Failure"
TASK_STARTED: Final = "Started"
TASK_TERMINATED: Final = "Terminated"
TASK_RESTARTING: Final = "Restarting"
TASK_NOT_RESTARTING: Final = "Not Restarting"
TASK_KILLING: Final = "Killing"
TASK_KILLED: Final = "Killed"
TASK_SIBLING_FAILED: Final = "Sibling Task Failed"
TASK_SETUP_FAILURE: Final = "Setup Failure"
TASK_DOWNLOADING_ARTIFACTS: Final = "Downloading Artifacts"
TASK_ARTIFACT_DOWNLOAD_FAILED: Final = "Failed Artifact Download"
TASK_RESTART_SIGNAL: Final = "Restart Signaled"
TASK_SIGNALING: Final = "Signaling"

# Node statuses
NODE_STATUS_INIT: Final = "initializing"
NODE_STATUS_READY: Final = "ready"
NODE_STATUS_DOWN: Final = "down"
NODE_STATUS_DISCONNECTED: Final = "disconnected"
NODE_ELIGIBLE: Final = "eligible"
NODE_INELIGIBLE: Final = "ineligible"
DRAIN_STATUS_DRAINING: Final = "draining"
DRAIN_STATUS_COMPLETE: Final = "complete"
DRAIN_STATUS_CANCELED: Final = "canceled"

# Restart modes and reschedule delay functions
RESTART_MODE_FAIL: Final = "fail"
RESTART_MODE_DELAY: Final = "delay"
DELAY_CONSTANT: Final = "constant"
DELAY_EXPONENTIAL: Final = "exponential"
DELAY_FIBONACCI: Final = "fibonacci"

DEFAULT_NAMESPACE: Final = "default"
DEFAULT_REGION: Final = "global"
DEFAULT_DATACENTER: Final = "dc1"
DEFAULT_NODE_POOL: Final = "default"

MIN_DYNAMIC_PORT: Final = 20000
MAX_DYNAMIC_PORT: Final = 32000

SECOND: Final = 1_000_000_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE
