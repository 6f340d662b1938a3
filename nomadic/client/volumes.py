"""Host volume mounts for a task: the group's ``volume`` requests, the task's ``volume_mount``
blocks and the node's ``host_volume`` configuration become the driver's ``MountConfig`` list.

The scheduler placed the allocation on a node that offers every requested host volume, so a
missing one here means the client's configuration changed since; the task fails with a clear
setup error rather than starting without its data. Drivers that cannot mount
(``Capabilities.mount_configs == "none"``: raw_exec, qemu) refuse tasks with volume mounts.
"""

from __future__ import annotations

from nomadic.plugin import Capabilities, MountConfig
from nomadic.structs import Allocation, Node, Task
from nomadic.structs.funcs import alloc_suffix

__all__ = ["VolumeError", "task_mounts"]


class VolumeError(Exception):
    pass


def task_mounts(
    alloc: Allocation, task: Task, node: Node, capabilities: Capabilities
) -> list[MountConfig]:
    if not task.volume_mounts:
        return []
    if capabilities.mount_configs == "none":
        raise VolumeError(
            f"task driver {task.driver!r} does not support volume mounts "
            "(use exec, java or docker for tasks with volume_mount)"
        )
    tg = alloc.job.lookup_task_group(alloc.task_group) if alloc.job else None
    volumes = tg.volumes if tg else {}
    suffix = alloc_suffix(alloc.name)
    mounts = []
    for mount in task.volume_mounts:
        request = volumes.get(mount.volume)
        if request is None:
            raise VolumeError(f"volume_mount names volume {mount.volume!r}, not in the group")
        if request.type != "host":
            raise VolumeError(f"volume {mount.volume!r}: {request.type} volumes are not supported")
        source = request.source + suffix if request.per_alloc else request.source
        offered = node.host_volumes.get(source)
        if offered is None:
            raise VolumeError(f"host volume {source!r} is not configured on this client")
        mounts.append(
            MountConfig(
                task_path=mount.destination,
                host_path=offered.path,
                readonly=offered.read_only or request.read_only or mount.read_only,
                propagation_mode=mount.propagation_mode or "private",
            )
        )
    return mounts
