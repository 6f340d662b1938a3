"""The per-task executor: a small process that owns one isolated task (Nomad's executor).

It is run as a script by path (``python executor.py run <spec.json>``), imports only the
standard library, and lives in its own session, so the task survives a restart of the agent
that started it. What it does, in order:

1. unshare a private mount namespace and build the chroot: host paths bind-mounted read-only,
   a small ``/dev``, the alloc dir at ``/alloc`` (read-write). The mounts disappear with the
   namespace; nothing leaks onto the host.
2. unshare the PID, IPC and UTS namespaces and fork the namespace's init (PID 1), after moving
   it into the task's cgroups. Init mounts ``/proc``, chroots, and forks the task, which drops
   capabilities, switches to the task user and execs the command. Init forwards every signal
   it receives to the task and exits with it, so killing init kills the whole namespace.
3. report ``pid <init pid>`` (or ``error <message>``) on the ready pipe, then wait for init
   and write the task's exit as JSON to the result path; the cgroup's OOM-kill counter tells
   whether the kernel killed it for memory.

``python executor.py enter <spec.json> <init pid> <cmd...>`` runs a command inside a running
task's namespaces, cgroups, chroot and user (``alloc exec``).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import signal
import stat
import sys
import termios
import time
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_CAPBSET_DROP = 24
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str, dst: str, fstype: str, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(src.encode(), dst.encode(), fstype.encode(), flags, data.encode() or None),
        f"mount {src} on {dst}",
    )


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, what: str) -> None:
    _check(_libc.setns(fd, 0), f"setns {what}")


def _mountpoint(dst: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(dst, exist_ok=True)
    elif not os.path.exists(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()


def build_root(root: str, mounts: list[dict[str, Any]]) -> None:
    """Bind the host paths into ``root``; symlinks (merged /usr) are recreated as symlinks."""
    mount("none", "/", "", MS_REC | MS_PRIVATE)
    for m in mounts:
        src, dst = m["src"], root + m["dst"]
        if not os.path.lexists(src):
            continue
        if os.path.islink(src):
            if not os.path.lexists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.symlink(os.readlink(src), dst)
            continue
        _mountpoint(dst, os.path.isdir(src))
        mount(src, dst, "", MS_BIND | MS_REC)
        if m.get("readonly", True):
            mount("none", dst, "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_REC)
    dev = root + "/dev"
    os.makedirs(dev, exist_ok=True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k")
    for node in DEV_NODES:
        if os.path.exists("/dev/" + node):
            _mountpoint(f"{dev}/{node}", False)
            mount("/dev/" + node, f"{dev}/{node}", "", MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, f"{dev}/{name}")
    os.symlink("/proc/self/fd/1", f"{dev}/stdout")
    os.symlink("/proc/self/fd/2", f"{dev}/stderr")
    os.makedirs(f"{dev}/shm", exist_ok=True)
    mount("shm", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k")
    os.makedirs(root + "/proc", exist_ok=True)


def _open_output(path: str) -> int:
    if not path:
        return os.open(os.devnull, os.O_WRONLY)
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            return os.open(path, os.O_RDWR)  # never SIGPIPE while the log reader restarts
    except FileNotFoundError:
        pass
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def _become_task(spec: dict[str, Any]) -> None:
    """In the task process: drop capabilities and privileges, enter the working directory."""
    for cap in spec.get("cap_drop", []):
        _libc.prctl(PR_CAPBSET_DROP, int(cap), 0, 0, 0)
    gid, uid = int(spec["gid"]), int(spec["uid"])
    if os.getuid() == 0:
        os.setgroups([int(g) for g in spec.get("groups", [gid])])
        os.setgid(gid)
        os.setuid(uid)
    os.chdir(spec["cwd"])


def _run_task(spec: dict[str, Any], ready: int) -> None:
    """The task child: never returns. An exec failure goes up the ready pipe."""
    try:
        try:  # init is shielded from the OOM killer; the task is not
            with open((spec.get("root") or "") + "/proc/self/oom_score_adj", "w") as f:
                f.write("0")
        except OSError:
            pass
        os.set_inheritable(ready, False)
        fd_out, fd_err = _open_output(spec["stdout"]), _open_output(spec["stderr"])
        if spec.get("root"):
            os.chroot(spec["root"])
        _become_task(spec)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd_out, 1)
        os.dup2(fd_err, 2)
        argv = spec["argv"]
        os.execvpe(argv[0], argv, spec["env"])
    except OSError as exc:
        os.write(ready, f"error {spec['argv'][0]}: {exc.strerror or exc}\n".encode())
    except Exception as exc:
        os.write(ready, f"error {exc}\n".encode())
    os._exit(127)


def _init(spec: dict[str, Any], ready: int, status_w: int, go_r: int) -> None:
    """PID 1 of the task's namespace: forwards signals to the task, reports how it ended."""
    os.read(go_r, 1)  # the executor has put us in the cgroups
    os.close(go_r)
    os.setsid()
    root = spec.get("root") or ""
    if root and spec.get("mount_proc", True):
        mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    task = os.fork()
    if task == 0:
        _run_task(spec, ready)
    os.close(ready)

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(task, signum)
        except ProcessLookupError:
            pass

    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
            try:
                signal.signal(sig, forward)
            except (OSError, ValueError):
                pass
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == task:
            break
    if os.WIFSIGNALED(status):
        report = {"exit_code": 128 + os.WTERMSIG(status), "signal": os.WTERMSIG(status)}
    else:
        report = {"exit_code": os.WEXITSTATUS(status), "signal": 0}
    os.write(status_w, json.dumps(report).encode())
    os._exit(0)


def _ns_flags(spec: dict[str, Any]) -> int:
    flags = 0
    ns = spec.get("namespaces", {})
    if ns.get("pid"):
        flags |= CLONE_NEWPID
    if ns.get("ipc"):
        flags |= CLONE_NEWIPC
    if ns.get("uts"):
        flags |= CLONE_NEWUTS
    return flags


def _oom_kills(path: str) -> int:
    if not path:
        return 0
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _write_result(path: str, result: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, path)


def run(spec: dict[str, Any], ready: int) -> int:
    try:
        if spec.get("namespaces", {}).get("mount"):
            unshare(CLONE_NEWNS)
        if spec.get("root"):
            build_root(spec["root"], spec.get("mounts", []))
        flags = _ns_flags(spec)
        if flags:
            unshare(flags)
    except OSError as exc:
        os.write(ready, f"error isolation setup failed: {exc.strerror or exc}\n".encode())
        return 1
    status_r, status_w = os.pipe()
    go_r, go_w = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(status_r)
        os.close(go_w)
        try:
            _init(spec, ready, status_w, go_r)
        except BaseException as exc:
            os.write(ready, f"error task init failed: {exc}\n".encode())
        finally:
            os._exit(126)
    os.close(status_w)
    os.close(go_r)
    for procs in spec.get("cgroup_procs", []):
        with open(procs, "w") as f:
            f.write(str(init))
    try:
        with open(f"/proc/{init}/oom_score_adj", "w") as f:
            f.write("-999")
    except OSError:
        pass
    os.write(ready, f"pid {init}\n".encode())
    os.close(ready)
    os.close(go_w)
    _, status = os.waitpid(init, 0)
    data = b""
    while chunk := os.read(status_r, 4096):
        data += chunk
    result: dict[str, Any] = json.loads(data) if data else {}
    if not result:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        result = {"exit_code": 128 + sig if sig else os.WEXITSTATUS(status), "signal": sig}
    result["oom_killed"] = _oom_kills(spec.get("oom_events", "")) > 0
    _release_cgroups(spec.get("cgroup_procs", []))
    _write_result(spec["result_path"], result)
    return 0


def _release_cgroups(procs_files: list[str]) -> None:
    """Kill what is left in the task's cgroups (``pid_mode = "host"``), then remove them."""
    deadline = time.monotonic() + 5.0
    for procs in procs_files:
        while time.monotonic() < deadline:
            try:
                with open(procs) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        try:
            os.rmdir(os.path.dirname(procs))
        except OSError:
            pass


def enter(spec: dict[str, Any], init: int, argv: list[str]) -> int:
    """Run ``argv`` in the namespaces, cgroups, root and user of the task whose init is ``init``."""
    for procs in spec.get("cgroup_procs", []):
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    names = [n for n in ("ipc", "uts", "pid") if spec.get("namespaces", {}).get(n)]
    fds = {n: os.open(f"/proc/{init}/ns/{n}", os.O_RDONLY) for n in names}
    if spec.get("namespaces", {}).get("mount"):
        setns(os.open(f"/proc/{init}/ns/mnt", os.O_RDONLY), "mnt")
    for name, fd in fds.items():
        setns(fd, name)
    if spec.get("root"):
        os.chroot(spec["root"])
    child = os.fork()
    if child == 0:
        try:
            if os.isatty(0):  # alloc exec -t: the terminal follows into the namespace
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 1)
            _become_task(spec)
            os.execvpe(argv[0], argv, spec["env"])
        except OSError as exc:
            os.write(2, f"{exc.filename or argv[0]}: {exc.strerror or exc}\n".encode())
        os._exit(127)
    _, status = os.waitpid(child, 0)
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def main(argv: list[str]) -> int:
    mode, spec_path = argv[1], argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    if mode == "run":
        return run(spec, int(argv[3]))
    return enter(spec, int(argv[3]), argv[4:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
