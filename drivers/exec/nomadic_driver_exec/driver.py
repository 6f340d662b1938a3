"""ExecDriver: Nomad's isolated fork/exec driver.

The task runs in a chroot of the task dir, with host paths from ``chroot_env`` bind-mounted
read-only (Nomad's defaults: /bin, /etc, /lib, /lib32, /lib64, /run/resolvconf, /sbin, /usr and
the ld cache), the alloc dir at ``/alloc``, its ``local/`` at ``/local`` and ``secrets/`` at
``/secrets``; in new PID, mount, IPC and UTS namespaces (it sees only its own processes); in a
cgroup holding its memory and CPU limits; as user ``nobody`` unless the task sets ``user``.

Agent config (``plugin "exec" { config { ... } }``): ``default_pid_mode`` and
``default_ipc_mode`` (``private`` or ``host``), ``chroot_env`` (a map of host path to path in
the chroot, replacing the defaults). Task config: ``command`` (required), ``args``,
``work_dir``, ``pid_mode``, ``ipc_mode``, ``cap_drop``. ``cap_add`` is refused: a task runs
without privileges (the default user ``nobody`` has no capabilities to add to).
"""

from __future__ import annotations

import os
from typing import Any

from nomadic.plugin import ConfigError, DriverError, Fingerprint, TaskConfig

from . import sandbox
from .isolation import IsolatedDriver, options

MODES = ("private", "host")
TASK_KEYS = {"command", "args", "work_dir", "pid_mode", "ipc_mode", "cap_add", "cap_drop"}
PLUGIN_KEYS = {"default_pid_mode", "default_ipc_mode", "chroot_env"}


class ExecDriver(IsolatedDriver):
    name = "exec"

    def __init__(self) -> None:
        super().__init__()
        self.default_pid_mode = "private"
        self.default_ipc_mode = "private"
        self.chroot_env = dict(sandbox.DEFAULT_CHROOT_ENV)

    def set_config(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - PLUGIN_KEYS)
        if unknown:
            raise ConfigError(
                f'plugin "exec": unknown config key(s) {", ".join(unknown)}; '
                f"valid keys: {', '.join(sorted(PLUGIN_KEYS))}"
            )
        for key in ("default_pid_mode", "default_ipc_mode"):
            value = config.get(key, "private")
            if value not in MODES:
                raise ConfigError(
                    f'plugin "exec": {key} must be "private" or "host", got {value!r}'
                )
            setattr(self, key, value)
        chroot_env = config.get("chroot_env")
        if chroot_env is not None:
            if not isinstance(chroot_env, dict) or not all(
                isinstance(k, str)
                and isinstance(v, str)
                and k.startswith("/")
                and v.startswith("/")
                for k, v in chroot_env.items()
            ):
                raise ConfigError(
                    'plugin "exec": chroot_env must map absolute host paths to absolute paths, '
                    'e.g. chroot_env { "/usr" = "/usr" }'
                )
            self.chroot_env = dict(chroot_env)
        super().set_config(config)

    def fingerprint(self) -> Fingerprint:
        problem = sandbox.isolation_problem()
        if problem:
            return Fingerprint(detected=False, healthy=False, health_description=problem)
        return Fingerprint(
            detected=True,
            healthy=True,
            health_description="Healthy",
            attributes={"driver.exec": "1"},
        )

    def task_command(self, config: TaskConfig) -> tuple[list[str], str, sandbox.Isolation]:
        cfg = config.config
        options(cfg, TASK_KEYS, config.name, "exec")
        command = cfg.get("command")
        if not isinstance(command, str) or not command:
            raise DriverError(
                f'task {config.name!r}: exec needs config {{ command = "..." }}: the program to run'
            )
        args = cfg.get("args", [])
        if not isinstance(args, list):
            raise DriverError(f"task {config.name!r}: config args must be a list of strings")
        if cfg.get("cap_add"):
            raise DriverError(
                f"task {config.name!r}: cap_add is not supported yet by the exec driver; "
                "run the task as a user that needs no added capabilities"
            )
        iso = sandbox.Isolation(
            chroot_env=self.chroot_env,
            pid_mode=self._mode(cfg, "pid_mode", self.default_pid_mode, config.name),
            ipc_mode=self._mode(cfg, "ipc_mode", self.default_ipc_mode, config.name),
            cap_drop=[str(c) for c in cfg.get("cap_drop", [])],
        )
        work_dir = str(cfg.get("work_dir") or "/")  # the task dir is the chroot's root
        if not os.path.isabs(work_dir):
            raise DriverError(
                f"task {config.name!r}: work_dir {work_dir!r} must be an absolute path "
                "inside the task's chroot, e.g. /local"
            )
        return [command, *(str(a) for a in args)], work_dir, iso

    @staticmethod
    def _mode(cfg: dict[str, Any], key: str, default: str, task: str) -> str:
        value = cfg.get(key) or default
        if value not in MODES:
            raise DriverError(f'task {task!r}: {key} must be "private" or "host", got {value!r}')
        return str(value)
