"""Host volumes: a group's ``volume "<name>" { type = "host" source = "..." }`` requests must be
offered by the node's ``client { host_volume "<source>" {} }`` (Nomad's ``HostVolumeChecker``).

A node that offers a volume read-only satisfies only read-only requests for it. ``per_alloc``
requests ask for ``<source>[<alloc index>]`` (``data[0]``, ``data[1]`` ...), so they tell the
nodes of one computed class apart: the stack marks such a group as escaping class caching.
CSI volumes are not checked here (nomadic has no CSI plugins; the server warns at register).
"""

from __future__ import annotations

from typing import Final

from nomadic.structs import Node, VolumeRequest
from nomadic.structs.funcs import alloc_suffix

from .context import EvalContext

__all__ = ["FILTER_HOST_VOLUMES", "HostVolumeChecker", "escapes_class"]

FILTER_HOST_VOLUMES: Final = "missing compatible host volumes"


def escapes_class(volumes: dict[str, VolumeRequest]) -> bool:
    return any(v.type == "host" and v.per_alloc for v in volumes.values())


class HostVolumeChecker:
    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        # source -> is every request for it read-only?
        self.wanted: dict[str, bool] = {}

    def set_volumes(self, alloc_name: str, volumes: dict[str, VolumeRequest]) -> None:
        self.wanted = {}
        for req in volumes.values():
            if req.type != "host":
                continue
            source = req.source + alloc_suffix(alloc_name) if req.per_alloc else req.source
            self.wanted[source] = self.wanted.get(source, True) and req.read_only

    def feasible(self, node: Node) -> bool:
        if self._has_volumes(node):
            return True
        self.ctx.filter_node(node, FILTER_HOST_VOLUMES)
        return False

    def _has_volumes(self, node: Node) -> bool:
        if len(self.wanted) > len(node.host_volumes):
            return False
        for source, read_only in self.wanted.items():
            offered = node.host_volumes.get(source)
            if offered is None or (offered.read_only and not read_only):
                return False
        return True
