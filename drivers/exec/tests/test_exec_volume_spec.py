"""Host volume mounts in the exec sandbox spec: bound after chroot_env, read-only when asked,
refused with a clear error where a mount point would have to be created in a host directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from nomadic_driver_exec.sandbox import Isolation, build_spec

from nomadic.plugin import DriverError, MountConfig, TaskConfig


def config(tmp_path: Path, *mounts: MountConfig) -> TaskConfig:
    (tmp_path / "t" / "local").mkdir(parents=True)
    return TaskConfig(
        id="a/t/1",
        name="t",
        task_dir=str(tmp_path / "t" / "local"),
        user="root",
        mounts=list(mounts),
    )


def spec(cfg: TaskConfig, iso: Isolation, tmp_path: Path) -> dict[str, object]:
    return build_spec(cfg, ["/bin/true"], "/", iso, None, tmp_path / "state")


def test_volumes_are_mounted_after_chroot_env(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        MountConfig(task_path="srv/data", host_path="/var/data"),
        MountConfig(task_path="/etc/ssl", host_path="/opt/certs", readonly=True),
    )
    mounts = spec(cfg, Isolation(), tmp_path)["mounts"]
    assert isinstance(mounts, list)
    assert mounts[-2:] == [
        {"src": "/var/data", "dst": "/srv/data", "readonly": False},
        {"src": "/opt/certs", "dst": "/etc/ssl", "readonly": True},
    ]


def test_mount_point_inside_a_shared_host_directory_must_exist(tmp_path: Path) -> None:
    cfg = config(tmp_path, MountConfig(task_path="/etc/no-such-app", host_path="/var/data"))
    with pytest.raises(DriverError, match=r"/etc/no-such-app lies inside /etc, which the chroot"):
        spec(cfg, Isolation(), tmp_path)


def test_volumes_need_isolation(tmp_path: Path) -> None:
    cfg = config(tmp_path, MountConfig(task_path="/data", host_path="/var/data"))
    with pytest.raises(DriverError, match="volume mounts need isolation"):
        spec(cfg, Isolation(enabled=False), tmp_path)
