"""Namespaces and node pools: the global objects of a federation (Nomad's
``structs.Namespace`` and ``structs.NodePool``).

Both live in the authoritative region and are replicated to every other region
(``nomadic/server/replication.py``). Built-ins always exist and cannot be changed or deleted:
the ``default`` namespace, the ``default`` and ``all`` node pools (``all`` is only for jobs:
it selects every node, so no node may register in it).
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from .codec import Base
from .consts import DEFAULT_NAMESPACE, DEFAULT_NODE_POOL

__all__ = [
    "BUILTIN_NODE_POOLS",
    "MAX_DESCRIPTION_LENGTH",
    "NODE_POOL_ALL",
    "GlobalDeleteRequest",
    "GlobalListRequest",
    "GlobalWriteResponse",
    "Namespace",
    "NamespaceCapabilities",
    "NamespaceListReply",
    "NamespaceNodePoolConfiguration",
    "NamespaceUpsertRequest",
    "NodePool",
    "NodePoolListReply",
    "NodePoolSchedulerConfiguration",
    "NodePoolUpsertRequest",
    "builtin_namespaces",
    "builtin_node_pools",
    "validate_namespace",
    "validate_node_pool",
]

NODE_POOL_ALL: Final = "all"
BUILTIN_NODE_POOLS: Final = (NODE_POOL_ALL, DEFAULT_NODE_POOL)
MAX_DESCRIPTION_LENGTH: Final = 256  # Nomad's maxNamespaceDescriptionLength / node pools' too
BUILTIN_INDEX: Final = 1  # Nomad creates the built-ins when the state store is made, at index 1

# Nomad's validNamespaceName and validNodePoolName
NAMESPACE_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
NODE_POOL_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9-_]{1,128}$")
_ALGORITHMS = ("", "binpack", "spread")


class NamespaceCapabilities(Base):
    """Which task drivers and network modes jobs in the namespace may use (empty: any)."""

    enabled_task_drivers: list[str] = msgspec.field(default_factory=list)
    disabled_task_drivers: list[str] = msgspec.field(default_factory=list)
    enabled_network_modes: list[str] = msgspec.field(default_factory=list)
    disabled_network_modes: list[str] = msgspec.field(default_factory=list)


class NamespaceNodePoolConfiguration(Base):
    """Node pool governance: the pool jobs of the namespace get by default, and which they may
    (``Allowed``) or may not (``Denied``) use."""

    default: str = ""
    allowed: list[str] = msgspec.field(default_factory=list)
    denied: list[str] = msgspec.field(default_factory=list)


class Namespace(Base):
    name: str
    description: str = ""
    quota: str = ""
    capabilities: NamespaceCapabilities | None = None
    node_pool_configuration: NamespaceNodePoolConfiguration | None = None
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    create_index: int = 0
    modify_index: int = 0

    def same_spec(self, other: Namespace) -> bool:
        """Equal apart from the Raft indexes (replication's "changed?" test)."""
        return _spec(self) == _spec(other)


class NodePoolSchedulerConfiguration(Base):
    """Per-pool overrides of the scheduler configuration (Nomad Enterprise); stored and
    replicated, not yet read by the scheduler."""

    scheduler_algorithm: str = ""
    memory_oversubscription_enabled: bool | None = None


class NodePool(Base):
    name: str
    description: str = ""
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    scheduler_configuration: NodePoolSchedulerConfiguration | None = None
    create_index: int = 0
    modify_index: int = 0

    def is_builtin(self) -> bool:
        return self.name in BUILTIN_NODE_POOLS

    def same_spec(self, other: NodePool) -> bool:
        return _spec(self) == _spec(other)


def _spec(obj: Namespace | NodePool) -> object:
    return msgspec.structs.replace(obj, create_index=0, modify_index=0)


def builtin_namespaces() -> list[Namespace]:
    return [
        Namespace(
            name=DEFAULT_NAMESPACE,
            description="Default shared namespace",
            create_index=BUILTIN_INDEX,
            modify_index=BUILTIN_INDEX,
        )
    ]


def builtin_node_pools() -> list[NodePool]:
    return [
        NodePool(
            name=NODE_POOL_ALL,
            description="Node pool with all nodes in the cluster.",
            create_index=BUILTIN_INDEX,
            modify_index=BUILTIN_INDEX,
        ),
        NodePool(
            name=DEFAULT_NODE_POOL,
            description="Default node pool.",
            create_index=BUILTIN_INDEX,
            modify_index=BUILTIN_INDEX,
        ),
    ]


def validate_namespace(ns: Namespace) -> list[str]:
    """Problems with ``ns``, each saying how to fix it (empty: valid)."""
    errors = []
    if not NAMESPACE_NAME_RE.match(ns.name):
        errors.append(
            f"invalid name {ns.name!r}: a namespace name is 1-128 letters, digits and dashes "
            f"(must match {NAMESPACE_NAME_RE.pattern})"
        )
    if len(ns.description) > MAX_DESCRIPTION_LENGTH:
        errors.append(
            f"description is {len(ns.description)} characters, longer than "
            f"{MAX_DESCRIPTION_LENGTH}; shorten it"
        )
    cfg = ns.node_pool_configuration
    if cfg is not None and cfg.allowed and cfg.denied:
        errors.append(
            "node_pool_config: set either allowed or denied, not both "
            "(allowed lists the only pools jobs may use)"
        )
    return errors


def validate_node_pool(pool: NodePool) -> list[str]:
    """Problems with ``pool``, each saying how to fix it (empty: valid)."""
    errors = []
    if not NODE_POOL_NAME_RE.match(pool.name):
        errors.append(
            f"invalid name {pool.name!r}: a node pool name is 1-128 letters, digits, dashes "
            f"and underscores (must match {NODE_POOL_NAME_RE.pattern})"
        )
    if len(pool.description) > MAX_DESCRIPTION_LENGTH:
        errors.append(
            f"description is {len(pool.description)} characters, longer than "
            f"{MAX_DESCRIPTION_LENGTH}; shorten it"
        )
    sched = pool.scheduler_configuration
    if sched is not None and sched.scheduler_algorithm not in _ALGORITHMS:
        errors.append(
            f"invalid scheduler algorithm {sched.scheduler_algorithm!r}; use 'binpack' or 'spread'"
        )
    return errors


# -- requests and replies (HTTP, RPC, cross-region forwarding and replication) --------------


class NamespaceUpsertRequest(Base):
    namespaces: list[Namespace] = msgspec.field(default_factory=list)


class NodePoolUpsertRequest(Base):
    node_pools: list[NodePool] = msgspec.field(default_factory=list)


class GlobalDeleteRequest(Base):
    """Namespace.DeleteNamespaces / NodePool.DeleteNodePools."""

    names: list[str] = msgspec.field(default_factory=list)


class GlobalWriteResponse(Base):
    index: int = 0


class GlobalListRequest(Base):
    """A blocking list: answer once the table's index passes ``min_index`` or after
    ``timeout`` seconds (replication's long poll)."""

    min_index: int = 0
    timeout: float = 0.0


class NamespaceListReply(Base):
    namespaces: list[Namespace] = msgspec.field(default_factory=list)
    index: int = 0


class NodePoolListReply(Base):
    node_pools: list[NodePool] = msgspec.field(default_factory=list)
    index: int = 0
