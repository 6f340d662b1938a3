"""tasks_updated: which job changes are destructive (new allocations) and which are in place."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from nomadic.scheduler.updates import tasks_updated
from nomadic.structs import (
    Constraint,
    EphemeralDisk,
    Job,
    NetworkResource,
    Port,
    Service,
    TaskArtifact,
    Template,
    UpdateStrategy,
)
from nomadic.testing.factories import mock_job

Change = Callable[[Job], None]


def _task(job: Job):
    return job.task_groups[0].tasks[0]


CASES: list[tuple[str, Change, bool]] = [
    ("nothing", lambda j: None, False),
    ("count", lambda j: setattr(j.task_groups[0], "count", 3), False),
    (
        "group-constraint",
        lambda j: j.task_groups[0].constraints.append(
            Constraint(l_target="${meta.a}", r_target="b")
        ),
        False,
    ),
    (
        "update-strategy",
        lambda j: setattr(j.task_groups[0], "update", UpdateStrategy(max_parallel=3)),
        False,
    ),
    ("service-tags", lambda j: _task(j).services.append(Service(name="web", tags=["x"])), False),
    ("kill-timeout", lambda j: setattr(_task(j), "kill_timeout", 1), False),
    ("job-priority", lambda j: setattr(j, "priority", 90), False),
    ("driver", lambda j: setattr(_task(j), "driver", "exec"), True),
    ("config", lambda j: _task(j).config.update({"args": ["-u"]}), True),
    ("env", lambda j: _task(j).env.update({"NEW": "1"}), True),
    ("user", lambda j: setattr(_task(j), "user", "nobody"), True),
    ("cpu", lambda j: setattr(_task(j).resources, "cpu", 501), True),
    ("memory-max", lambda j: setattr(_task(j).resources, "memory_max_mb", 1024), True),
    ("artifact", lambda j: _task(j).artifacts.append(TaskArtifact(getter_source="http://x")), True),
    ("template", lambda j: _task(j).templates.append(Template(embedded_tmpl="x")), True),
    ("job-meta", lambda j: j.meta.update({"owner": "someone-else"}), True),
    ("group-meta", lambda j: j.task_groups[0].meta.update({"k": "v"}), True),
    (
        "ephemeral-disk",
        lambda j: setattr(j.task_groups[0], "ephemeral_disk", EphemeralDisk(size_mb=500)),
        True,
    ),
    (
        "static-port",
        lambda j: j.task_groups[0].networks[0].reserved_ports.append(Port(label="db", value=5432)),
        True,
    ),
    (
        "dynamic-port-label",
        lambda j: setattr(j.task_groups[0].networks[0].dynamic_ports[0], "label", "web"),
        True,
    ),
    (
        "task-network",
        lambda j: _task(j).resources.networks.append(
            NetworkResource(dynamic_ports=[Port(label="x")])
        ),
        True,
    ),
    ("log-disabled", lambda j: setattr(_task(j).log_config, "disabled", True), True),
]


@pytest.mark.parametrize(
    ("change", "destructive"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tasks_updated(change: Change, destructive: bool) -> None:
    old = mock_job()
    new = msgspec.convert(msgspec.to_builtins(old), Job)
    change(new)
    assert tasks_updated(old, new, "web") is destructive


def test_missing_group_is_destructive() -> None:
    old = mock_job()
    new = msgspec.structs.replace(old, task_groups=[])
    assert tasks_updated(old, new, "web") is True
