"""Job.Dispatch's checks and the child it builds (pure: no server needed)."""

from __future__ import annotations

import re

import pytest

from nomadic.errors import ValidationError
from nomadic.server.endpoints.dispatch import derive_dispatched
from nomadic.structs import Job, ParameterizedJobConfig, Task, TaskGroup
from nomadic.structs.canonicalize import validate
from nomadic.structs.requests import JobDispatchRequest


def parent(payload: str = "optional") -> Job:
    return Job(
        id="render",
        type="batch",
        meta={"owner": "ops", "x": "default"},
        parameterized_job=ParameterizedJobConfig(
            payload=payload, meta_required=["x"], meta_optional=["y"]
        ),
        task_groups=[TaskGroup(name="g", tasks=[Task(name="t", driver="raw_exec")])],
    )


@pytest.mark.parametrize(
    ("payload_rule", "req", "message"),
    [
        ("forbidden", JobDispatchRequest(payload=b"p", meta={"x": "1"}), "payload is not allowed"),
        ("required", JobDispatchRequest(meta={"x": "1"}), "payload is required"),
        (
            "optional",
            JobDispatchRequest(payload=b"x" * 16385, meta={"x": "1"}),
            "payload exceeds maximum size; 16385 > 16384 bytes",
        ),
        ("optional", JobDispatchRequest(meta={"x": "1", "z": "2"}), "unpermitted meta keys z"),
        ("optional", JobDispatchRequest(meta={"y": "1"}), "missing required meta keys x"),
        (
            "optional",
            JobDispatchRequest(meta={"x": "1"}, id_prefix_template="a/b"),
            "invalid ID prefix template",
        ),
    ],
    ids=["forbidden", "required", "too-big", "unpermitted", "missing", "bad-prefix"],
)
def test_dispatch_rejects(payload_rule: str, req: JobDispatchRequest, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        derive_dispatched(parent(payload_rule), req)


def test_dispatched_child_carries_payload_meta_and_parent() -> None:
    req = JobDispatchRequest(payload=b"data", meta={"x": "42"}, id_prefix_template="nightly")
    child = derive_dispatched(parent(), req)
    assert re.fullmatch(r"render/dispatch-nightly-\d+-[0-9a-f]{8}", child.id)
    assert child.parent_id == "render" and child.dispatched and not child.is_parameterized()
    assert child.payload == b"data"
    assert child.meta == {"owner": "ops", "x": "42"}
    assert validate(child) == []


def test_validate_rejects_overlapping_meta_and_periodic_service() -> None:
    job = parent()
    assert job.parameterized_job is not None
    job.parameterized_job.meta_optional = ["x"]
    job.type = "service"
    errors = validate(job)
    assert any("both required and optional" in e for e in errors)
    assert any("parameterized can only be used with" in e for e in errors)
