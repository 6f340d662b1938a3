"""The client's view of host volumes: mounts built from the group's requests, the task's
volume_mount blocks and the node's host_volume configuration."""

from __future__ import annotations

import pytest

from nomadic.client.volumes import VolumeError, task_mounts
from nomadic.plugin import Capabilities, MountConfig
from nomadic.structs import ClientHostVolumeConfig, Node, VolumeMount, VolumeRequest

from .fakes import make_alloc

ALL = Capabilities(mount_configs="all")


def _setup(request: VolumeRequest, mount: VolumeMount, name: str = "example.g[2]"):
    alloc = make_alloc("node-1", {}, volume_mounts=[mount])
    assert alloc.job is not None
    alloc.job.task_groups[0].volumes = {"v": request}
    alloc.name = name
    node = Node(
        host_volumes={
            "data": ClientHostVolumeConfig(name="data", path="/srv/data"),
            "db[2]": ClientHostVolumeConfig(name="db[2]", path="/srv/db2"),
            "certs": ClientHostVolumeConfig(name="certs", path="/etc/ssl", read_only=True),
        }
    )
    return alloc, alloc.job.task_groups[0].tasks[0], node


@pytest.mark.parametrize(
    ("request_", "mount", "expected"),
    [
        pytest.param(
            VolumeRequest(type="host", source="data"),
            VolumeMount(volume="v", destination="/data"),
            MountConfig(task_path="/data", host_path="/srv/data"),
            id="read-write",
        ),
        pytest.param(
            VolumeRequest(type="host", source="data", read_only=True),
            VolumeMount(volume="v", destination="/data"),
            MountConfig(task_path="/data", host_path="/srv/data", readonly=True),
            id="request-read-only",
        ),
        pytest.param(
            VolumeRequest(type="host", source="certs", read_only=True),
            VolumeMount(volume="v", destination="/certs"),
            MountConfig(task_path="/certs", host_path="/etc/ssl", readonly=True),
            id="node-read-only",
        ),
        pytest.param(
            VolumeRequest(type="host", source="db", per_alloc=True),
            VolumeMount(volume="v", destination="/db", propagation_mode="host-to-task"),
            MountConfig(task_path="/db", host_path="/srv/db2", propagation_mode="host-to-task"),
            id="per-alloc",
        ),
    ],
)
def test_mounts(request_: VolumeRequest, mount: VolumeMount, expected: MountConfig) -> None:
    alloc, task, node = _setup(request_, mount)
    assert task_mounts(alloc, task, node, ALL) == [expected]


def test_errors_are_clear() -> None:
    alloc, task, node = _setup(
        VolumeRequest(type="host", source="gone"), VolumeMount(volume="v", destination="/x")
    )
    with pytest.raises(VolumeError, match="host volume 'gone' is not configured on this client"):
        task_mounts(alloc, task, node, ALL)
    with pytest.raises(VolumeError, match="does not support volume mounts"):
        task_mounts(alloc, task, node, Capabilities())
