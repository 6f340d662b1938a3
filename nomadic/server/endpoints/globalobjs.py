"""Namespace and NodePool endpoints (Nomad's ``namespace_endpoint.go`` and
``node_pool_endpoint.go``): validated writes on the authoritative region's leader, and the
blocking lists other regions' leaders replicate from.

Writes reach here only on the authoritative region's leader (``Server`` forwards them from a
follower or from another region first); the FSM repeats the delete rules, so a replicated
delete never removes what a region still uses.
"""

from __future__ import annotations

import time

from nomadic.errors import NotFoundError, ValidationError
from nomadic.state.entries import NamespaceDelete, NamespaceUpsert, NodePoolDelete, NodePoolUpsert
from nomadic.state.snapshot import Snapshot
from nomadic.structs import Namespace, NodePool
from nomadic.structs.consts import DEFAULT_NAMESPACE
from nomadic.structs.globalobjs import (
    BUILTIN_NODE_POOLS,
    GlobalListRequest,
    NamespaceListReply,
    NodePoolListReply,
    validate_namespace,
    validate_node_pool,
)

from .base import Host

__all__ = ["MAX_LIST_WAIT", "GlobalObjectsEndpoint"]

MAX_LIST_WAIT = 10.0  # seconds a blocking list waits at most (fits the RPC deadline)


class GlobalObjectsEndpoint:
    def __init__(self, host: Host, region: str) -> None:
        self._host = host
        self._region = region

    # -- namespaces ---------------------------------------------------------------------

    async def upsert_namespaces(self, namespaces: list[Namespace]) -> int:
        if not namespaces:
            raise ValidationError("no namespaces to apply: send at least one Namespace")
        errors = [
            f'invalid namespace "{ns.name}": {problem}'
            for ns in namespaces
            for problem in validate_namespace(ns)
        ]
        if errors:
            raise ValidationError(errors)
        return await self._host.apply(NamespaceUpsert(namespaces=list(namespaces)))

    async def delete_namespaces(self, names: list[str]) -> int:
        snap = self._host.snapshot()
        for name in names:
            if name == DEFAULT_NAMESPACE:
                raise ValidationError("default namespace can not be deleted")
            if snap.namespace_by_name(name) is None:
                raise NotFoundError(
                    f'namespace "{name}" not found; list namespaces with `nomadic namespace list`'
                )
            if _live_jobs(snap, namespace=name):
                raise ValidationError(
                    f'namespace "{name}" has non-terminal jobs in regions: [{self._region}]; '
                    f"stop them (`nomadic job stop -namespace {name} <job>`) before deleting it"
                )
        return await self._host.apply(NamespaceDelete(names=list(names)))

    async def list_namespaces(self, req: GlobalListRequest) -> NamespaceListReply:
        snap = await self._wait(req, "namespaces")
        return NamespaceListReply(
            namespaces=snap.namespaces(), index=snap.table_index("namespaces")
        )

    # -- node pools ---------------------------------------------------------------------

    async def upsert_node_pools(self, pools: list[NodePool]) -> int:
        if not pools:
            raise ValidationError("no node pools to apply: send at least one NodePool")
        errors = [
            f'invalid node pool "{pool.name}": {problem}'
            for pool in pools
            for problem in validate_node_pool(pool)
        ]
        errors += [
            f'modifying node pool "{pool.name}" is not allowed: it is built in'
            for pool in pools
            if pool.is_builtin()
        ]
        if errors:
            raise ValidationError(errors)
        return await self._host.apply(NodePoolUpsert(pools=list(pools)))

    async def delete_node_pools(self, names: list[str]) -> int:
        snap = self._host.snapshot()
        for name in names:
            if name in BUILTIN_NODE_POOLS:
                raise ValidationError(f'deleting node pool "{name}" is not allowed: it is built in')
            if snap.node_pool_by_name(name) is None:
                raise NotFoundError(
                    f'node pool "{name}" not found; list pools with `nomadic node pool list`'
                )
            if any(n.node_pool == name for n in snap.nodes()):
                raise ValidationError(
                    f'node pool "{name}" has nodes in regions: [{self._region}]; '
                    "move them to another pool (client node_pool) before deleting it"
                )
            if _live_jobs(snap, node_pool=name):
                raise ValidationError(
                    f'node pool "{name}" has non-terminal jobs in regions: [{self._region}]; '
                    "stop them before deleting it"
                )
        return await self._host.apply(NodePoolDelete(names=list(names)))

    async def list_node_pools(self, req: GlobalListRequest) -> NodePoolListReply:
        snap = await self._wait(req, "node_pools")
        return NodePoolListReply(node_pools=snap.node_pools(), index=snap.table_index("node_pools"))

    async def _wait(self, req: GlobalListRequest, table: str) -> Snapshot:
        """The state once ``table``'s index passes ``req.min_index`` (or the wait ran out)."""
        snap = self._host.snapshot()
        deadline = time.monotonic() + min(max(req.timeout, 0.0), MAX_LIST_WAIT)
        while req.min_index and snap.table_index(table) <= req.min_index:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self._host.wait_for_index(snap.latest_index(), remaining)
            snap = self._host.snapshot()
        return snap


def _live_jobs(snap: Snapshot, *, namespace: str | None = None, node_pool: str = "") -> bool:
    return any(
        j.status != "dead" and (not node_pool or j.node_pool == node_pool)
        for j in snap.jobs(namespace)
    )


def require_namespace(snap: Snapshot, name: str) -> None:
    """Job registration: the job's namespace must exist."""
    if snap.namespace_by_name(name) is None:
        raise ValidationError(
            f'namespace "{name}" does not exist; create it with `nomadic namespace apply {name}`'
        )


def require_node_pool(snap: Snapshot, name: str) -> None:
    """Job registration: the job's node pool must exist (``all`` always does)."""
    if snap.node_pool_by_name(name) is None:
        raise ValidationError(
            f'node pool "{name}" does not exist; create it with `nomadic node pool apply` '
            "or register a client in it"
        )
