"""The task environment Nomad users expect, and ${...} interpolation."""

from __future__ import annotations

from pathlib import Path

from nomadic.client.allocdir import AllocDir
from nomadic.client.taskenv import build_task_env, interpolate, interpolate_value
from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedPortMapping,
    AllocatedResources,
    AllocatedSharedResources,
    AllocatedTaskResources,
    Allocation,
    Job,
    Node,
    Task,
    TaskGroup,
)

ALLOC_ID = "0c1e8d2f-1111-2222-3333-444455556666"


def fixture(tmp_path: Path) -> tuple[Allocation, Task, Node, AllocDir]:
    task = Task(
        name="web",
        env={"GREETING": "hi-${NOMAD_JOB_NAME}", "WHERE": "${node.datacenter}"},
        meta={"owner": "ops"},
    )
    group = TaskGroup(name="frontend", tasks=[task], meta={"tier": "1"})
    job = Job(
        id="shop",
        name="shop",
        region="eu",
        parent_id="shop-parent",
        task_groups=[group],
        meta={"team.name": "x"},
    )
    alloc = Allocation(
        id=ALLOC_ID,
        name="shop.frontend[2]",
        namespace="default",
        job_id="shop",
        job=job,
        task_group="frontend",
        allocated_resources=AllocatedResources(
            tasks={
                "web": AllocatedTaskResources(
                    cpu=AllocatedCpuResources(cpu_shares=250),
                    memory=AllocatedMemoryResources(memory_mb=128, memory_max_mb=256),
                )
            },
            shared=AllocatedSharedResources(
                ports=[
                    AllocatedPortMapping(label="http", value=23456, to=8080, host_ip="127.0.0.1")
                ]
            ),
        ),
    )
    node = Node(
        id="node-1",
        name="n1",
        datacenter="dc2",
        node_class="big",
        attributes={"unique.network.ip-address": "127.0.0.1", "kernel.name": "linux"},
        meta={"rack": "r1"},
    )
    return alloc, task, node, AllocDir.for_alloc(tmp_path, ALLOC_ID)


def test_nomad_variables(tmp_path: Path) -> None:
    alloc, task, node, adir = fixture(tmp_path)
    env = build_task_env(alloc, task, node, adir, host_env={"PATH": "/bin", "VAULT_TOKEN": "s"})
    expected = {
        "PATH": "/bin",
        "NOMAD_ALLOC_ID": ALLOC_ID,
        "NOMAD_SHORT_ALLOC_ID": "0c1e8d2f",
        "NOMAD_ALLOC_NAME": "shop.frontend[2]",
        "NOMAD_ALLOC_INDEX": "2",
        "NOMAD_JOB_ID": "shop",
        "NOMAD_JOB_NAME": "shop",
        "NOMAD_JOB_PARENT_ID": "shop-parent",
        "NOMAD_GROUP_NAME": "frontend",
        "NOMAD_TASK_NAME": "web",
        "NOMAD_NAMESPACE": "default",
        "NOMAD_REGION": "eu",
        "NOMAD_DC": "dc2",
        "NOMAD_CPU_LIMIT": "250",
        "NOMAD_MEMORY_LIMIT": "128",
        "NOMAD_MEMORY_MAX_LIMIT": "256",
        "NOMAD_ALLOC_DIR": str(tmp_path / ALLOC_ID / "alloc"),
        "NOMAD_TASK_DIR": str(tmp_path / ALLOC_ID / "web" / "local"),
        "NOMAD_SECRETS_DIR": str(tmp_path / ALLOC_ID / "web" / "secrets"),
        "NOMAD_PORT_http": "23456",
        "NOMAD_IP_http": "127.0.0.1",
        "NOMAD_ADDR_http": "127.0.0.1:23456",
        "NOMAD_HOST_PORT_http": "23456",
        "NOMAD_HOST_IP_http": "127.0.0.1",
        "NOMAD_HOST_ADDR_http": "127.0.0.1:23456",
        "NOMAD_ALLOC_PORT_http": "8080",
        "NOMAD_META_owner": "ops",
        "NOMAD_META_OWNER": "ops",
        "NOMAD_META_tier": "1",
        "NOMAD_META_TIER": "1",
        "NOMAD_META_team_name": "x",
        "NOMAD_META_TEAM_NAME": "x",
        "GREETING": "hi-shop",
        "WHERE": "dc2",
    }
    assert env == expected  # VAULT_TOKEN is on Nomad's default denylist


def test_interpolation_forms(tmp_path: Path) -> None:
    _, _, node, _ = fixture(tmp_path)
    env = {"NOMAD_TASK_NAME": "web", "HOME": "/root"}
    cases = {
        "${NOMAD_TASK_NAME}": "web",
        '${env["HOME"]}/x': "/root/x",
        "${node.unique.id}/${node.unique.name}/${node.class}": "node-1/n1/big",
        "${attr.kernel.name}": "linux",
        "${meta.rack}": "r1",
        "${NOT_SET} stays": "${NOT_SET} stays",
        "plain": "plain",
    }
    for text, want in cases.items():
        assert interpolate(text, env, node) == want, text


def test_interpolates_config_recursively(tmp_path: Path) -> None:
    _, _, node, _ = fixture(tmp_path)
    config = {
        "command": "${NOMAD_TASK_NAME}",
        "args": ["-p", "${NOMAD_PORT_http}", 3],
        "n": {"x": "${meta.rack}"},
    }
    env = {"NOMAD_TASK_NAME": "web", "NOMAD_PORT_http": "80"}
    assert interpolate_value(config, env, node) == {
        "command": "web",
        "args": ["-p", "80", 3],
        "n": {"x": "r1"},
    }


def test_alloc_dir_layout(tmp_path: Path) -> None:
    adir = AllocDir.for_alloc(tmp_path, "a1")
    adir.build(["web"])
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert found == [
        "a1",
        "a1/alloc",
        "a1/alloc/data",
        "a1/alloc/logs",
        "a1/alloc/tmp",
        "a1/web",
        "a1/web/local",
        "a1/web/private",
        "a1/web/secrets",
        "a1/web/tmp",
    ]
    assert (tmp_path / "a1/web/secrets").stat().st_mode & 0o777 == 0o700
