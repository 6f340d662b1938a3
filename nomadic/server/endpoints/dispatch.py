"""Job.Dispatch: launch a child of a parameterized job (Nomad's ``nomad/job_endpoint.go``
``Dispatch`` and ``validateDispatchRequest``).

The child is ``<parent>/dispatch-<unix>-<8hex>`` (``<parent>/dispatch-<prefix>-<unix>-<8hex>``
with an ID prefix template): the parent with ``Dispatched`` and ``ParentID`` set, the payload
stored on it and the request's meta merged over the parent's. A request whose idempotency
token matches a child that is not stopped returns that child instead of a new one.
"""

from __future__ import annotations

import uuid

import msgspec

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Job
from nomadic.structs.requests import JobDispatchRequest

from .base import now_ns

__all__ = ["DISPATCH_PAYLOAD_SIZE_LIMIT", "derive_dispatched", "existing_dispatch"]

DISPATCH_PAYLOAD_SIZE_LIMIT = 16 * 1024  # Nomad's DispatchPayloadSizeLimit
DISPATCH_LAUNCH_SUFFIX = "/dispatch-"


def parameterized_parent(snap: Snapshot, namespace: str, job_id: str) -> Job:
    parent = snap.job_by_id(namespace, job_id)
    if parent is None:
        raise NotFoundError(f'job "{job_id}" not found in namespace "{namespace}"')
    if not parent.is_parameterized():
        raise ValidationError(
            f'job "{job_id}" is not a parameterized job; only jobs with a parameterized '
            "block can be dispatched"
        )
    if parent.stop:
        raise ValidationError(f'job "{job_id}" is stopped; run it again before dispatching')
    return parent


def existing_dispatch(snap: Snapshot, parent: Job, token: str) -> Job | None:
    """The live child dispatched earlier with idempotency ``token``, if any."""
    if not token:
        return None
    for child in snap.children(parent.namespace, parent.id):
        if child.dispatch_idempotency_token == token and not child.stop:
            return child
    return None


def _check_request(parent: Job, req: JobDispatchRequest) -> None:
    config = parent.parameterized_job
    assert config is not None
    prefix = req.id_prefix_template
    if prefix and (len(prefix) > 256 or any(c.isspace() or c in "/\x00" for c in prefix)):
        raise ValidationError(
            f'dispatch of "{parent.id}": invalid ID prefix template {prefix!r}; use up to 256 '
            "characters without spaces or slashes"
        )
    payload = req.payload or b""
    if config.payload == "forbidden" and payload:
        raise ValidationError(
            f'dispatch of "{parent.id}": payload is not allowed (parameterized payload = '
            '"forbidden"); dispatch without a payload file'
        )
    if config.payload == "required" and not payload:
        raise ValidationError(
            f'dispatch of "{parent.id}": payload is required (parameterized payload = '
            '"required"); pass a payload file or "-" for stdin'
        )
    if len(payload) > DISPATCH_PAYLOAD_SIZE_LIMIT:
        raise ValidationError(
            f'dispatch of "{parent.id}": payload exceeds maximum size; '
            f"{len(payload)} > {DISPATCH_PAYLOAD_SIZE_LIMIT} bytes"
        )
    allowed = set(config.meta_required) | set(config.meta_optional)
    unpermitted = sorted(set(req.meta) - allowed)
    if unpermitted:
        hint = ", ".join(sorted(allowed)) or "none"
        raise ValidationError(
            f'dispatch of "{parent.id}": unpermitted meta keys {", ".join(unpermitted)}; '
            f"the job allows: {hint}"
        )
    missing = sorted(set(config.meta_required) - set(req.meta))
    if missing:
        raise ValidationError(
            f'dispatch of "{parent.id}": missing required meta keys {", ".join(missing)}; '
            "pass each with -meta key=value"
        )


def derive_dispatched(parent: Job, req: JobDispatchRequest) -> Job:
    """Validate ``req`` against the parent's parameterized block and build the child job."""
    _check_request(parent, req)
    now = now_ns()
    suffix = f"{now // 1_000_000_000}-{uuid.uuid4().hex[:8]}"
    prefix = f"{req.id_prefix_template}-" if req.id_prefix_template else ""
    child_id = f"{parent.id}{DISPATCH_LAUNCH_SUFFIX}{prefix}{suffix}"
    return msgspec.structs.replace(
        parent,
        id=child_id,
        name=child_id,
        parent_id=parent.id,
        dispatched=True,
        payload=req.payload or None,
        meta={**parent.meta, **req.meta},
        dispatch_idempotency_token=req.idempotency_token,
        priority=req.priority or parent.priority,
        status="",
        status_description="",
        stop=False,
        version=0,
        create_index=0,
        modify_index=0,
        job_modify_index=0,
    )
