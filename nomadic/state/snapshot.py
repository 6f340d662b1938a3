"""The state's tables and the read-only :class:`StateSnapshot` over one version of them.

Every table is an ``immutables.Map`` (a persistent HAMT), and so is every secondary index
(a map of keys to a map used as a set). A :class:`Tables` value is one consistent version of
the whole state; a snapshot holds a reference to one, so taking it is O(1) and later writes
(which build a new ``Tables``) are never visible through it.

Objects stored in the tables are shared, not copied: callers must treat them as read-only.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple, Protocol, TypeVar

import immutables

from nomadic.structs import (
    Allocation,
    Deployment,
    Evaluation,
    Job,
    JobSummary,
    Namespace,
    Node,
    NodePool,
    PeriodicLaunch,
    SchedulerConfiguration,
)
from nomadic.structs.funcs import NodeAllocsUsage
from nomadic.structs.globalobjs import BUILTIN_INDEX, builtin_namespaces, builtin_node_pools

__all__ = ["TABLES", "Snapshot", "Tables", "empty_tables", "with_builtins"]


class _Indexed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def create_index(self) -> int: ...


T = TypeVar("T", bound=_Indexed)

JobKey = tuple[str, str]
_BY_CREATE_INDEX = operator.attrgetter("create_index", "id")

# Names of the tables whose write index is tracked (what blocking queries watch).
TABLES = (
    "jobs",
    "job_versions",
    "job_summary",
    "evals",
    "allocs",
    "nodes",
    "periodic_launch",
    "scheduler_config",
    "deployments",
    "namespaces",
    "node_pools",
)
SCHEDULER_CONFIG_KEY = "config"  # the scheduler_config table holds one row


class Tables(NamedTuple):
    """One immutable version of every table and index."""

    jobs: immutables.Map[JobKey, Job]
    job_versions: immutables.Map[JobKey, tuple[Job, ...]]
    job_summary: immutables.Map[JobKey, JobSummary]
    evals: immutables.Map[str, Evaluation]
    allocs: immutables.Map[str, Allocation]
    nodes: immutables.Map[str, Node]
    # secondary indexes: key -> set of IDs (a map to True)
    allocs_by_job: immutables.Map[JobKey, immutables.Map[str, bool]]
    allocs_by_node: immutables.Map[str, immutables.Map[str, bool]]
    allocs_by_eval: immutables.Map[str, immutables.Map[str, bool]]
    evals_by_job: immutables.Map[JobKey, immutables.Map[str, bool]]
    # node ID -> what its non-terminal allocations hold (derived; not in FSM snapshots)
    node_usage: immutables.Map[str, NodeAllocsUsage]
    # table name -> last index that changed it
    table_index: immutables.Map[str, int]
    # last launch of each periodic job (Nomad's periodic_launch table)
    periodic_launch: immutables.Map[JobKey, PeriodicLaunch]
    # one row, SCHEDULER_CONFIG_KEY; absent until an operator sets it (defaults apply)
    scheduler_config: immutables.Map[str, SchedulerConfiguration] = immutables.Map()
    # deployments (Nomad's deployment table) and their index by job
    deployments: immutables.Map[str, Deployment] = immutables.Map()
    deployments_by_job: immutables.Map[JobKey, immutables.Map[str, bool]] = immutables.Map()
    # global objects, by name (built-ins always present; see empty_tables)
    namespaces: immutables.Map[str, Namespace] = immutables.Map()
    node_pools: immutables.Map[str, NodePool] = immutables.Map()


_NO_USAGE = NodeAllocsUsage()
_ORDER = operator.attrgetter("create_index", "id")


def empty_tables() -> Tables:
    empty: immutables.Map[Any, Any] = immutables.Map()
    return with_builtins(Tables(*([empty] * len(Tables._fields))))


def with_builtins(tables: Tables) -> Tables:
    """``tables`` with the built-in namespace and node pools added where missing (Nomad
    creates them with the state store), and with a namespace for every job's namespace and a
    pool for every node's pool (a snapshot from before namespaces and pools existed)."""
    namespaces, pools = tables.namespaces, tables.node_pools
    wanted_ns = builtin_namespaces() + [
        Namespace(name=ns, create_index=BUILTIN_INDEX, modify_index=BUILTIN_INDEX)
        for ns in sorted({ns for ns, _ in tables.jobs})
    ]
    for ns in wanted_ns:
        if ns.name not in namespaces:
            namespaces = namespaces.set(ns.name, ns)
    wanted_pools = builtin_node_pools() + [
        NodePool(name=name, create_index=BUILTIN_INDEX, modify_index=BUILTIN_INDEX)
        for name in sorted({n.node_pool for n in tables.nodes.values() if n.node_pool})
    ]
    for pool in wanted_pools:
        if pool.name not in pools:
            pools = pools.set(pool.name, pool)
    return tables._replace(namespaces=namespaces, node_pools=pools)


class Snapshot:
    """A consistent, read-only view of the state (implements ``StateSnapshot``)."""

    __slots__ = ("_t",)

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    @property
    def tables(self) -> Tables:
        return self._t

    def latest_index(self) -> int:
        return max(self._t.table_index.values(), default=0)

    def table_index(self, table: str) -> int:
        return self._t.table_index.get(table, 0)

    # jobs
    def job_by_id(self, namespace: str, job_id: str) -> Job | None:
        return self._t.jobs.get((namespace, job_id))

    def jobs(self, namespace: str | None = None, prefix: str = "") -> list[Job]:
        found = [
            job
            for (ns, jid), job in self._t.jobs.items()
            if (namespace is None or ns == namespace) and jid.startswith(prefix)
        ]
        return sorted(found, key=lambda j: (j.id, j.namespace))

    def children(self, namespace: str, parent_id: str) -> list[Job]:
        """Jobs launched from a periodic or parameterized parent, sorted by ID."""
        return [j for j in self.jobs(namespace, parent_id + "/") if j.parent_id == parent_id]

    def periodic_launch(self, namespace: str, job_id: str) -> PeriodicLaunch | None:
        return self._t.periodic_launch.get((namespace, job_id))

    def job_versions(self, namespace: str, job_id: str) -> list[Job]:
        return list(self._t.job_versions.get((namespace, job_id), ()))

    def job_summary(self, namespace: str, job_id: str) -> JobSummary | None:
        return self._t.job_summary.get((namespace, job_id))

    # evaluations
    def eval_by_id(self, eval_id: str) -> Evaluation | None:
        return self._t.evals.get(eval_id)

    def evals(self, prefix: str = "") -> list[Evaluation]:
        found = [e for eid, e in self._t.evals.items() if eid.startswith(prefix)]
        return sorted(found, key=lambda e: (e.create_index, e.id))

    def evals_by_job(self, namespace: str, job_id: str) -> list[Evaluation]:
        ids = self._t.evals_by_job.get((namespace, job_id))
        return self._collect(self._t.evals, ids)

    # allocations
    def alloc_by_id(self, alloc_id: str) -> Allocation | None:
        return self._t.allocs.get(alloc_id)

    def allocs(self, prefix: str = "") -> list[Allocation]:
        found = [a for aid, a in self._t.allocs.items() if aid.startswith(prefix)]
        return sorted(found, key=lambda a: (a.create_index, a.id))

    def allocs_by_job(self, namespace: str, job_id: str) -> list[Allocation]:
        ids = self._t.allocs_by_job.get((namespace, job_id))
        return _in_order(self._t.allocs, ids, ("job", namespace, job_id))

    def allocs_by_node(self, node_id: str) -> list[Allocation]:
        return _in_order(self._t.allocs, self._t.allocs_by_node.get(node_id), ("node", node_id))

    def allocs_by_eval(self, eval_id: str) -> list[Allocation]:
        return self._collect(self._t.allocs, self._t.allocs_by_eval.get(eval_id))

    def node_usage(self, node_id: str) -> NodeAllocsUsage:
        """cpu, memory, disk and count of the node's non-terminal allocations."""
        return self._t.node_usage.get(node_id) or _NO_USAGE

    # nodes
    def node_by_id(self, node_id: str) -> Node | None:
        return self._t.nodes.get(node_id)

    def nodes(self, prefix: str = "") -> list[Node]:
        table = self._t.nodes
        if not prefix:
            # every scheduler eval reads all nodes: sort each version of the table once
            global _ALL_NODES
            cached = _ALL_NODES
            if cached is None or cached[0] is not table:
                cached = _ALL_NODES = (table, sorted(table.values(), key=_node_id))
            return list(cached[1])
        found = [n for nid, n in table.items() if nid.startswith(prefix)]
        return sorted(found, key=_node_id)

    def draining_nodes(self) -> list[Node]:
        """Nodes with a drain strategy, by ID (the drainer's pass runs per state change: at
        5,000 nodes sorting them all each time was a tenth of a busy leader's loop)."""
        found = [n for n in self._t.nodes.values() if n.drain_strategy is not None]
        return sorted(found, key=lambda n: n.id)

    # operator
    def scheduler_config(self) -> SchedulerConfiguration:
        """The scheduler configuration; Nomad's defaults when none was ever set."""
        found = self._t.scheduler_config.get(SCHEDULER_CONFIG_KEY)
        return found if found is not None else SchedulerConfiguration()

    # deployments
    def deployment_by_id(self, deployment_id: str) -> Deployment | None:
        return self._t.deployments.get(deployment_id)

    def deployments(self, prefix: str = "") -> list[Deployment]:
        found = [d for did, d in self._t.deployments.items() if did.startswith(prefix)]
        return sorted(found, key=lambda d: (d.create_index, d.id))

    def deployments_by_job(self, namespace: str, job_id: str) -> list[Deployment]:
        """The job's deployments, oldest first."""
        return self._collect(
            self._t.deployments, self._t.deployments_by_job.get((namespace, job_id))
        )

    def latest_deployment_by_job(self, namespace: str, job_id: str) -> Deployment | None:
        found = self.deployments_by_job(namespace, job_id)
        return found[-1] if found else None

    # global objects
    def namespace_by_name(self, name: str) -> Namespace | None:
        return self._t.namespaces.get(name)

    def namespaces(self, prefix: str = "") -> list[Namespace]:
        """Namespaces sorted by name."""
        return sorted(
            (ns for name, ns in self._t.namespaces.items() if name.startswith(prefix)),
            key=lambda ns: ns.name,
        )

    def node_pool_by_name(self, name: str) -> NodePool | None:
        return self._t.node_pools.get(name)

    def node_pools(self, prefix: str = "") -> list[NodePool]:
        """Node pools sorted by name."""
        return sorted(
            (p for name, p in self._t.node_pools.items() if name.startswith(prefix)),
            key=lambda p: p.name,
        )

    @staticmethod
    def _collect(table: immutables.Map[str, T], ids: immutables.Map[str, bool] | None) -> list[T]:
        if not ids:
            return []
        get = table.get
        found = [o for i in ids if (o := get(i)) is not None]
        found.sort(key=_ORDER)
        return found


# The nodes table (an immutable map, so identity is version) and its nodes sorted by ID.
_ALL_NODES: tuple[immutables.Map[str, Node], list[Node]] | None = None


def _node_id(node: Node) -> str:
    return node.id


# (index, key) -> (the ID set, its IDs in (create_index, ID) order). An allocation's
# create_index never changes, so the order of one ID set is computed once and reused by every
# read until the set changes (a client's alloc watch reads its node's set on each wake).
_ORDERED: dict[tuple[str, ...], tuple[immutables.Map[str, bool], list[str]]] = {}
_ORDERED_MAX = 65536


def _in_order(
    table: immutables.Map[str, Allocation],
    ids: immutables.Map[str, bool] | None,
    key: tuple[str, ...],
) -> list[Allocation]:
    if not ids:
        return []
    cached = _ORDERED.get(key)
    if cached is not None and cached[0] is ids:
        get = table.get
        return [o for i in cached[1] if (o := get(i)) is not None]
    found = Snapshot._collect(table, ids)
    if len(_ORDERED) >= _ORDERED_MAX:
        _ORDERED.clear()
    if len(found) == len(ids):  # every ID resolved: the order is complete
        _ORDERED[key] = (ids, [a.id for a in found])
    return found
