"""What an isolated task runs in: the executor's spec (chroot mounts, namespaces, cgroups, user).

Shared by the exec and java drivers. :func:`isolation_problem` says why isolation cannot be
used on this host (not Linux, not root, no cgroups), or ``""`` when it can.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nomadic.plugin import DriverError, TaskConfig

from . import cgroups

#: Nomad's default ``chroot_env``: host path -> path in the task's root.
DEFAULT_CHROOT_ENV: dict[str, str] = {
    "/bin": "/bin",
    "/etc": "/etc",
    "/lib": "/lib",
    "/lib32": "/lib32",
    "/lib64": "/lib64",
    "/run/resolvconf": "/run/resolvconf",
    "/sbin": "/sbin",
    "/usr": "/usr",
    "/etc/ld.so.cache": "/etc/ld.so.cache",
    "/etc/ld.so.conf": "/etc/ld.so.conf",
    "/etc/ld.so.conf.d": "/etc/ld.so.conf.d",
}

CAPABILITIES = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)

STATE_ROOT = Path("/run/nomadic/exec")


def isolation_problem() -> str:
    """Why namespaces + chroot + cgroups cannot be used here, or ``""`` when they can."""
    if not sys.platform.startswith("linux"):
        return f"isolation needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "isolation needs the client to run as root"
    if cgroups.version() == 0:
        return "no usable cgroups: mount cgroup v2 with the memory and cpu controllers, or v1"
    if not os.path.exists("/proc/self/ns/pid"):
        return "the kernel has no PID namespaces"
    return ""


@dataclass
class Isolation:
    """How to isolate one task; ``enabled = False`` runs it on the host (still supervised)."""

    enabled: bool = True
    chroot_env: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CHROOT_ENV))
    pid_mode: str = "private"
    ipc_mode: str = "private"
    cap_drop: list[str] = field(default_factory=list)


def resolve_user(name: str, task: str) -> tuple[int, int, list[int]]:
    try:
        entry = pwd.getpwnam(name) if not name.isdigit() else pwd.getpwuid(int(name))
    except KeyError:
        raise DriverError(
            f"task {task!r}: user {name!r} does not exist on this client; set the task's "
            "user to an existing account"
        ) from None
    groups = os.getgrouplist(entry.pw_name, entry.pw_gid)
    return entry.pw_uid, entry.pw_gid, groups


def cap_numbers(names: list[str], task: str) -> list[int]:
    out: set[int] = set()
    for raw in names:
        name = raw.lower().removeprefix("cap_")
        if name == "all":
            out.update(range(len(CAPABILITIES)))
        elif name in CAPABILITIES:
            out.add(CAPABILITIES.index(name))
        else:
            raise DriverError(f"task {task!r}: cap_drop: unknown capability {raw!r}")
    return sorted(out)


def state_dir(task_id: str) -> Path:
    """The executor's files for one task; the short name also names the task's cgroup."""
    base = STATE_ROOT if os.geteuid() == 0 else Path(f"/tmp/nomadic-exec-{os.geteuid()}")
    path = base / hashlib.sha256(task_id.encode()).hexdigest()[:24]
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _prepare_task_root(root: Path, uid: int, gid: int) -> None:
    """The task dir becomes the root; the task user must be able to write local/ and tmp/."""
    root.chmod(0o755)
    for name, mode in (("local", 0o777), ("tmp", 0o1777)):
        sub = root / name
        sub.mkdir(exist_ok=True)
        sub.chmod(mode)
    secrets = root / "secrets"
    if secrets.is_dir():
        os.chown(secrets, uid, gid)


def chroot_env_vars(env: dict[str, str]) -> dict[str, str]:
    """The task sees its dirs at /alloc, /local and /secrets (as in Nomad's chroot drivers)."""
    out = dict(env)
    for key, path in (
        ("NOMAD_ALLOC_DIR", "/alloc"),
        ("NOMAD_TASK_DIR", "/local"),
        ("NOMAD_SECRETS_DIR", "/secrets"),
    ):
        if key in out:
            out[key] = path
    return out


def build_spec(
    config: TaskConfig,
    argv: list[str],
    cwd: str,
    iso: Isolation,
    cgroup: cgroups.TaskCgroup | None,
    state: Path,
) -> dict[str, Any]:
    """The executor's JSON spec. ``cwd`` is a path inside the task's root when isolated."""
    uid, gid, groups = resolve_user(config.user or "nobody", config.name)
    spec: dict[str, Any] = {
        "argv": argv,
        "cwd": cwd,
        "env": config.env,
        "uid": uid,
        "gid": gid,
        "groups": groups,
        "stdout": config.stdout_path,
        "stderr": config.stderr_path,
        "result_path": str(state / "result.json"),
        "namespaces": {},
        "cgroup_procs": cgroup.procs_files() if cgroup else [],
        "oom_events": cgroup.oom_events_file() if cgroup else "",
        "cap_drop": cap_numbers(iso.cap_drop, config.name),
    }
    if not iso.enabled:
        if config.mounts:
            raise DriverError(
                f"task {config.name!r}: volume mounts need isolation, which is off here "
                f"({isolation_problem() or 'disabled in the plugin config'})"
            )
        if os.geteuid() != 0 or not config.user:
            spec["uid"], spec["gid"], spec["groups"] = os.getuid(), os.getgid(), os.getgroups()
        return spec
    root = Path(config.task_dir).parent if config.task_dir else state / "root"
    root.mkdir(parents=True, exist_ok=True)
    _prepare_task_root(root, uid, gid)
    mounts = [{"src": s, "dst": d, "readonly": True} for s, d in iso.chroot_env.items()]
    shared = Path(config.alloc_dir) / "alloc"
    if config.alloc_dir and shared.is_dir() and shared != root:
        mounts.append({"src": str(shared), "dst": "/alloc", "readonly": False})
    for m in config.mounts:  # host volumes: after chroot_env, so they may sit inside it
        dst = os.path.normpath("/" + m.task_path.lstrip("/"))
        _check_mount_point(dst, iso.chroot_env, config.name)
        mounts.append({"src": m.host_path, "dst": dst, "readonly": m.readonly})
    spec.update(
        root=str(root),
        mounts=mounts,
        env=chroot_env_vars(config.env),
        namespaces={
            "mount": True,
            "pid": iso.pid_mode != "host",
            "ipc": iso.ipc_mode != "host",
            "uts": True,
        },
    )
    return spec


def _check_mount_point(dst: str, chroot_env: dict[str, str], task: str) -> None:
    """A volume inside a read-only chroot_env bind (``/etc/app``) needs its mount point to
    exist already: creating it would write into the host's directory."""
    for src, inside in chroot_env.items():
        inside = os.path.normpath(inside)
        if dst == inside or dst.startswith(inside.rstrip("/") + "/"):
            host = os.path.join(src, os.path.relpath(dst, inside))
            if not os.path.isdir(host):
                raise DriverError(
                    f"task {task!r}: volume_mount destination {dst} lies inside {inside}, which "
                    f"the chroot shares read-only with the host, and {host} does not exist; "
                    "mount the volume somewhere else (e.g. /srv/...) or under local/"
                )
