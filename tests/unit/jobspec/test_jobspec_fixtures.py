"""Real Nomad job files (copied from /work/shared/fixtures/jobspecs so this suite is
self-contained) parse, and the values that matter come out right."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse_file
from nomadic.structs import Constraint, Port, canonicalize, validate

FIXTURES = Path(__file__).parent / "fixtures"
S = 1_000_000_000
KERNEL_LINUX = Constraint(l_target="${attr.kernel.name}", r_target="linux", operand="=")
XYZ_VARS = {"X": "hello", "Y": "7", "Z": "true"}


def load(name: str, variables: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_file(str(FIXTURES / name), variables)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.hcl")), ids=lambda p: p.name)
def test_every_fixture_parses_and_validates(path: Path) -> None:
    job = parse_file(str(path), XYZ_VARS if path.name == "jobsubmissions-xyz.hcl" else None)
    assert job.id and job.task_groups
    assert validate(canonicalize(job)) == []


def test_example_job() -> None:
    job = load("example.nomad.hcl")
    assert (job.id, job.name, job.type, job.datacenters) == ("example", "example", "service", ["*"])
    assert job.update is not None and job.update.healthy_deadline == 180 * S
    assert job.migrate is not None and job.migrate.healthy_deadline == 300 * S
    cache = job.task_groups[0]
    assert cache.networks[0].dynamic_ports == [Port(label="db", to=6379)]
    assert cache.services[0].name == "redis-cache" and cache.services[0].provider == "nomad"
    assert cache.ephemeral_disk.size_mb == 300
    redis = cache.tasks[0]
    assert redis.config == {"image": "redis:7", "ports": ["db"], "auth_soft_fail": True}
    assert (redis.resources.cpu, redis.resources.memory_mb, redis.shutdown_delay) == (
        500,
        256,
        10 * S,
    )


def test_deployment_counts_and_updates() -> None:
    job = load("deployment-deployment_auto0.nomad.hcl")
    one, two = job.task_groups
    assert (one.count, two.count) == (3, 3)
    assert one.update is not None and (one.update.max_parallel, one.update.canary) == (3, 2)
    assert one.update.auto_promote is True
    assert two.update is not None and two.update.min_healthy_time == 2 * S
    assert job.constraints == [KERNEL_LINUX]


def test_lifecycle_hooks_and_heredoc_templates() -> None:
    group = load("lifecycle-service.nomad.hcl").task_groups[0]
    hooks = {
        t.name: (t.lifecycle.hook, t.lifecycle.sidecar) if t.lifecycle else None
        for t in group.tasks
    }
    assert hooks == {
        "init": ("prestart", False),
        "sidecar": ("prestart", True),
        "main": None,
        "poststart": ("poststart", False),
        "poststop": ("poststop", False),
    }
    init = group.tasks[0].templates[0]
    assert init.dest_path == "local/prestart.sh"
    # Runtime interpolation survives, and the heredoc keeps its final newline as HCL does.
    assert init.embedded_tmpl.startswith("#!/bin/sh\nsleep 1\ntouch ${NOMAD_ALLOC_DIR}/init-ran\n")
    assert init.embedded_tmpl.endswith("rm ${NOMAD_ALLOC_DIR}/init-running\n")


def test_periodic() -> None:
    job = load("periodic-simple.nomad.hcl")
    assert job.periodic is not None
    assert (job.periodic.spec, job.periodic.spec_type, job.periodic.prohibit_overlap) == (
        "13 13 31 1 7",
        "cron",
        True,
    )
    assert job.constraints == [
        Constraint(
            l_target="${attr.kernel.name}", r_target="darwin,linux", operand="set_contains_any"
        )
    ]


def test_parameterized() -> None:
    job = load("parameterized-simple.nomad.hcl")
    assert job.parameterized_job is not None
    assert (job.parameterized_job.payload, job.parameterized_job.meta_optional) == (
        "optional",
        ["i"],
    )
    sysbatch = load("scheduler_sysbatch-sysbatch_dispatch.nomad.hcl")
    assert sysbatch.type == "sysbatch"
    assert sysbatch.parameterized_job is not None
    assert sysbatch.parameterized_job.payload == "forbidden"
    assert sysbatch.parameterized_job.meta_required == ["KEY"]


def test_system_job_restart_and_env() -> None:
    job = load("scheduler_system-system_job0.nomad.hcl")
    group = job.task_groups[0]
    assert job.type == "system" and job.datacenters == ["dc1", "dc2"]
    assert group.restart_policy is not None
    assert (group.restart_policy.attempts, group.restart_policy.interval) == (10, 60 * S)
    assert (group.restart_policy.delay, group.restart_policy.mode) == (2 * S, "delay")
    assert group.tasks[0].env == {"version": "1"}


def test_spreads_and_affinities() -> None:
    job = load("spread-multiple_spread.nomad.hcl")
    assert job.spreads[0].attribute == "${node.datacenter}" and job.spreads[0].weight == 100
    targets = job.task_groups[0].spreads[0].spread_target
    assert [(t.value, t.percent) for t in targets] == [("r1", 70), ("r2", 30)]
    aff = load("affinities-multiple_affinities.nomad.hcl")
    assert aff.affinities[0].l_target == "${meta.rack}" and aff.affinities[0].weight == 100
    assert aff.task_groups[0].count == 4
    assert aff.task_groups[0].affinities[0].r_target == "dc1"


def test_service_checks_and_runtime_ports() -> None:
    job = load("servicediscovery-checks_happy.nomad.hcl")
    group = job.task_groups[0]
    check = group.services[0].checks[0]
    assert (check.name, check.type, check.path, check.interval, check.timeout) == (
        "http-server-check",
        "http",
        "/",
        2 * S,
        1 * S,
    )
    assert group.networks[0].dynamic_ports == [Port(label="http")]
    assert group.tasks[0].config["args"] == ["-m", "http.server", "${NOMAD_PORT_http}"]


def test_variables_locals_and_functions() -> None:
    task = load("docker-auth_basic.hcl").task_groups[0].tasks[0]
    assert task.config["image"] == "localhost:7511/docker.io/library/bash_auth_basic:private"
    assert task.config["auth"] == [{"username": "auth_basic_user", "password": "auth_basic_pass"}]


def test_variables_from_cli() -> None:
    task = load("jobsubmissions-xyz.hcl", XYZ_VARS).task_groups[0].tasks[0]
    assert task.config["args"] == ["X hello, Y 7, Z true"]


def test_unset_variable_is_an_error() -> None:
    with pytest.raises(JobSpecError, match=r'jobsubmissions-xyz.hcl:4:1: Unset variable "X"'):
        load("jobsubmissions-xyz.hcl")


def test_failed_sibling_group_restart() -> None:
    group = load("taskevents-failed_sibling.nomad.hcl").task_groups[0]
    assert [t.name for t in group.tasks] == ["failed_sibling", "failure"]
    assert group.restart_policy is not None and group.restart_policy.attempts == 0
