"""The StateStore: the server's in-memory database, written only by the FSM.

Writes build a new :class:`~nomadic.state.snapshot.Tables` from the current one inside a
:class:`_Txn` and swap it in at commit, so readers holding a snapshot keep their consistent
view. Every write stamps the Raft index on the objects and on the tables it changed, keeps the
secondary indexes, job summaries and job status in step, then tells listeners
``(index, {changed table names})`` from the thread that applied it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import immutables
import msgspec

from nomadic.structs import (
    Allocation,
    AllocUpdate,
    Deployment,
    DeploymentStatusUpdate,
    DesiredTransition,
    DrainMetadata,
    DrainStrategy,
    Evaluation,
    Job,
    Namespace,
    Node,
    NodeEvent,
    NodePool,
    PeriodicLaunch,
    SchedulerConfiguration,
)
from nomadic.structs.consts import (
    DEFAULT_NAMESPACE,
    DRAIN_STATUS_CANCELED,
    DRAIN_STATUS_COMPLETE,
    DRAIN_STATUS_DRAINING,
    NODE_ELIGIBLE,
    NODE_INELIGIBLE,
)
from nomadic.structs.funcs import NodeAllocsUsage
from nomadic.structs.globalobjs import BUILTIN_NODE_POOLS

from . import deployments as deploys
from . import summary as summaries
from .snapshot import (
    SCHEDULER_CONFIG_KEY,
    JobKey,
    Snapshot,
    Tables,
    empty_tables,
    with_builtins,
)

__all__ = ["AllocNodeListener", "Listener", "StateStore"]

MAX_JOB_VERSIONS = 6  # Nomad's JobTrackedVersions
MAX_NODE_EVENTS = 10  # Nomad's MaxRetainedNodeEvents

Listener = Callable[[int, frozenset[str]], object]
# (index, IDs of the nodes whose allocations changed; None: every node, after a restore)
AllocNodeListener = Callable[[int, frozenset[str] | None], object]
_replace = msgspec.structs.replace
_EMPTY: immutables.Map[str, bool] = immutables.Map()


class StateStore:
    """Owns the current :class:`Tables`; hands out O(1) snapshots."""

    def __init__(self) -> None:
        self._tables = empty_tables()
        self._listeners: list[Listener] = []
        self._alloc_node_listeners: list[AllocNodeListener] = []
        self._write_lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        return Snapshot(self._tables)

    def latest_index(self) -> int:
        return self.snapshot().latest_index()

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(index, tables)`` after every write (from the writing thread)."""
        self._listeners.append(fn)

    def add_alloc_node_listener(self, fn: AllocNodeListener) -> None:
        """Call ``fn(index, node_ids)`` after a server-side write (not a client's status report)
        changed allocations on those nodes, so a node's blocking alloc watch wakes only for
        changes to its own allocations that it does not know of yet."""
        self._alloc_node_listeners.append(fn)

    # -- jobs -----------------------------------------------------------------------------

    def upsert_job(self, index: int, job: Job) -> Job:
        """Store ``job``; bumps Version and JobModifyIndex when the spec changed."""
        with self._txn(index) as t:
            return t.upsert_job(job)

    def delete_job(self, index: int, namespace: str, job_id: str) -> None:
        with self._txn(index) as t:
            t.delete_job((namespace, job_id))

    def upsert_periodic_launch(self, index: int, launch: PeriodicLaunch) -> None:
        with self._txn(index) as t:
            t.upsert_periodic_launch(launch)

    # -- evals ----------------------------------------------------------------------------

    def upsert_evals(self, index: int, evals: Iterable[Evaluation]) -> None:
        with self._txn(index) as t:
            for ev in evals:
                t.upsert_eval(ev)

    # -- allocs ---------------------------------------------------------------------------

    def upsert_allocs(self, index: int, allocs: Iterable[Allocation]) -> None:
        """Insert or replace allocations from the scheduler (server-side fields)."""
        with self._txn(index) as t:
            for alloc in allocs:
                t.upsert_alloc(alloc, server_change=True)

    def update_allocs_from_client(self, index: int, updates: Iterable[AllocUpdate]) -> None:
        """Apply client-reported status; unknown allocation IDs are skipped."""
        with self._txn(index) as t:
            for up in updates:
                old = t.get("allocs", up.id)
                if old is None:
                    continue
                new = _replace(
                    old,
                    client_status=up.client_status,
                    client_description=up.client_description,
                    task_states=up.task_states,
                    modify_time=up.modify_time or old.modify_time,
                    deployment_status=_client_health(old, up, index),
                )
                t.upsert_alloc(new, server_change=False)

    def update_desired_transitions(
        self, index: int, transitions: dict[str, DesiredTransition]
    ) -> None:
        with self._txn(index) as t:
            for alloc_id, transition in transitions.items():
                old = t.get("allocs", alloc_id)
                if old is not None:
                    t.upsert_alloc(_replace(old, desired_transition=transition), True)

    # -- deployments (the write logic lives in state/deployments.py) ---------------------

    def upsert_deployment(self, index: int, deployment: Deployment) -> None:
        with self._txn(index) as t:
            deploys.upsert_deployment(t, deployment)

    def update_deployment_status(
        self, index: int, update: DeploymentStatusUpdate, now: int = 0
    ) -> None:
        with self._txn(index) as t:
            deploys.update_deployment_status(t, update, now)

    def update_deployment_promotion(
        self, index: int, deployment_id: str, groups: list[str] | None, now: int = 0
    ) -> None:
        with self._txn(index) as t:
            deploys.update_promotion(t, deployment_id, groups, now)

    def update_deployment_alloc_health(
        self, index: int, healthy: list[str], unhealthy: list[str], timestamp: int
    ) -> None:
        with self._txn(index) as t:
            deploys.set_alloc_health(t, healthy, True, timestamp)
            deploys.set_alloc_health(t, unhealthy, False, timestamp)

    def apply_plan_deployments(
        self,
        index: int,
        deployment: Deployment | None,
        updates: list[DeploymentStatusUpdate],
        now: int,
    ) -> None:
        """A plan's deployment and status changes (written before its allocations)."""
        with self._txn(index) as t:
            if deployment is not None:
                deploys.upsert_deployment(t, deployment)
            for update in updates:
                deploys.update_deployment_status(t, update, now)

    # -- nodes ----------------------------------------------------------------------------

    def upsert_node(self, index: int, node: Node) -> None:
        with self._txn(index) as t:
            old = t.get("nodes", node.id)
            create = old.create_index if old is not None else index
            t.put("nodes", node.id, _replace(node, create_index=create, modify_index=index))

    def update_node_status(self, index: int, node_id: str, status: str, updated_at: int) -> None:
        with self._txn(index) as t:
            old = t.get("nodes", node_id)
            if old is not None:
                new = _replace(old, status=status, status_updated_at=updated_at, modify_index=index)
                t.put("nodes", node_id, new)

    def update_node_drain(
        self,
        index: int,
        node_id: str,
        strategy: DrainStrategy | None,
        *,
        mark_eligible: bool,
        updated_at: int,
        meta: dict[str, str] | None = None,
        event: NodeEvent | None = None,
    ) -> None:
        """Start, change or end a drain (Nomad's UpdateNodeDrain).

        Draining makes the node ineligible; ending a drain keeps it ineligible unless
        ``mark_eligible``. ``LastDrain`` records the drain: complete when it ended on its
        own (the drainer), canceled when a user turned it off.
        """
        with self._txn(index) as t:
            old: Node | None = t.get("nodes", node_id)
            if old is None:
                return
            last = old.last_drain
            eligibility = old.scheduling_eligibility
            if strategy is not None:
                eligibility = NODE_INELIGIBLE
                started = last.started_at if old.drain_strategy is not None and last else updated_at
                last = DrainMetadata(
                    started_at=started,
                    updated_at=updated_at,
                    status=DRAIN_STATUS_DRAINING,
                    meta=dict(meta or (last.meta if last and old.drain_strategy else {})),
                )
            else:
                if mark_eligible:
                    eligibility = NODE_ELIGIBLE
                if old.drain_strategy is not None and last is not None:
                    status = DRAIN_STATUS_CANCELED if mark_eligible else DRAIN_STATUS_COMPLETE
                    last = _replace(last, status=status, updated_at=updated_at)
            new = _replace(
                old,
                drain_strategy=strategy,
                drain=strategy is not None,
                scheduling_eligibility=eligibility,
                last_drain=last,
                events=_with_event(old.events, event, index),
                modify_index=index,
            )
            t.put("nodes", node_id, new)

    def update_node_eligibility(
        self, index: int, node_id: str, eligibility: str, event: NodeEvent | None = None
    ) -> None:
        with self._txn(index) as t:
            old: Node | None = t.get("nodes", node_id)
            if old is not None:
                new = _replace(
                    old,
                    scheduling_eligibility=eligibility,
                    events=_with_event(old.events, event, index),
                    modify_index=index,
                )
                t.put("nodes", node_id, new)

    # -- operator -------------------------------------------------------------------------

    def set_scheduler_config(self, index: int, config: SchedulerConfiguration) -> None:
        with self._txn(index) as t:
            old: SchedulerConfiguration | None = t.get("scheduler_config", SCHEDULER_CONFIG_KEY)
            create = old.create_index if old is not None else index
            stored = _replace(config, create_index=create, modify_index=index)
            t.put("scheduler_config", SCHEDULER_CONFIG_KEY, stored)

    def delete_nodes(self, index: int, node_ids: Iterable[str]) -> None:
        with self._txn(index) as t:
            for node_id in node_ids:
                t.delete("nodes", node_id)

    # -- global objects: namespaces and node pools -----------------------------------------

    def upsert_namespaces(self, index: int, namespaces: Iterable[Namespace]) -> None:
        """Create or replace namespaces (``default`` may be described, never deleted)."""
        with self._txn(index) as t:
            for ns in namespaces:
                old: Namespace | None = t.get("namespaces", ns.name)
                create = old.create_index if old is not None else index
                t.put("namespaces", ns.name, _replace(ns, create_index=create, modify_index=index))

    def delete_namespaces(self, index: int, names: Iterable[str]) -> list[str]:
        """Delete namespaces; keeps (and returns) built-ins and ones with non-terminal jobs,
        which the endpoints refuse with a clear error before they get here."""
        kept = []
        with self._txn(index) as t:
            view = Snapshot(Tables(**t.maps))
            for name in names:
                if name == DEFAULT_NAMESPACE or _live_jobs(view, namespace=name):
                    kept.append(name)
                else:
                    t.delete("namespaces", name)
        return kept

    def upsert_node_pools(self, index: int, pools: Iterable[NodePool]) -> None:
        """Create or replace node pools; built-ins (``default``, ``all``) are never replaced."""
        with self._txn(index) as t:
            for pool in pools:
                if pool.is_builtin():
                    continue
                old: NodePool | None = t.get("node_pools", pool.name)
                create = old.create_index if old is not None else index
                stored = _replace(pool, create_index=create, modify_index=index)
                t.put("node_pools", pool.name, stored)

    def ensure_namespace(self, index: int, name: str) -> None:
        """Create namespace ``name`` unless it exists: a job written by a log entry from before
        namespaces existed, or whose namespace was deleted while its registration committed
        (the endpoints refuse jobs in unknown namespaces, so nothing else gets here)."""
        if name and self.snapshot().namespace_by_name(name) is None:
            self.upsert_namespaces(index, [Namespace(name=name)])

    def ensure_node_pool(self, index: int, name: str) -> None:
        """Create an empty pool ``name`` unless it exists (a node registering in it)."""
        if name and self.snapshot().node_pool_by_name(name) is None:
            self.upsert_node_pools(index, [NodePool(name=name)])

    def delete_node_pools(self, index: int, names: Iterable[str]) -> list[str]:
        """Delete node pools; keeps (and returns) built-ins and pools used by a node or a
        non-terminal job."""
        kept = []
        with self._txn(index) as t:
            view = Snapshot(Tables(**t.maps))
            for name in names:
                in_use = any(n.node_pool == name for n in view.nodes())
                if name in BUILTIN_NODE_POOLS or in_use or _live_jobs(view, node_pool=name):
                    kept.append(name)
                else:
                    t.delete("node_pools", name)
        return kept

    # -- whole-state restore (snapshots) ----------------------------------------------------

    def restore(self, tables: Tables) -> None:
        tables = with_builtins(tables)
        with self._write_lock:
            self._tables = tables
        index = Snapshot(tables).latest_index()
        self._notify(index, frozenset(tables.table_index.keys()))
        for fn in list(self._alloc_node_listeners):
            fn(index, None)

    # -- plumbing -------------------------------------------------------------------------

    def _txn(self, index: int) -> _TxnContext:
        return _TxnContext(self, index)

    def _commit(self, t: _Txn) -> None:
        self._tables = t.finish()

    def _notify(self, index: int, changed: frozenset[str]) -> None:
        for fn in list(self._listeners):
            fn(index, changed)


def _client_health(old: Allocation, up: AllocUpdate, index: int) -> Any:
    """The client's health verdict, taken once; the server keeps the canary flag."""
    current = old.deployment_status
    if up.deployment_status is None or (current is not None and current.has_health()):
        return current
    canary = current.canary if current is not None else False
    return _replace(up.deployment_status, canary=canary, modify_index=index)


def _live_jobs(view: Snapshot, *, namespace: str | None = None, node_pool: str = "") -> list[Job]:
    """Non-terminal jobs of a namespace or a node pool (what blocks deleting it)."""
    return [
        j
        for j in view.jobs(namespace)
        if j.status != "dead" and (not node_pool or j.node_pool == node_pool)
    ]


def _with_event(events: list[NodeEvent], event: NodeEvent | None, index: int) -> list[NodeEvent]:
    if event is None:
        return events
    return [*events, _replace(event, create_index=index)][-MAX_NODE_EVENTS:]


def _resolve(table: immutables.Map[str, Any], ids: immutables.Map[str, bool]) -> Iterable[Any]:
    """The stored objects of an index's IDs, lazily and in no particular order."""
    get = table.get
    return (o for i in ids if (o := get(i)) is not None)


class _TxnContext:
    def __init__(self, store: StateStore, index: int) -> None:
        self._store = store
        self._index = index
        self._txn: _Txn | None = None

    def __enter__(self) -> _Txn:
        self._store._write_lock.acquire()
        self._txn = _Txn(self._store._tables, self._index)
        return self._txn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        txn = self._txn
        assert txn is not None
        try:
            if exc_type is None:
                txn.fix_job_statuses()
                self._store._commit(txn)
        finally:
            self._store._write_lock.release()
        if exc_type is None and txn.changed:
            self._store._notify(self._index, frozenset(txn.changed))
        if exc_type is None and txn.alloc_nodes:
            nodes = frozenset(txn.alloc_nodes)
            for fn in list(self._store._alloc_node_listeners):
                fn(self._index, nodes)


class _Txn:
    """A write in progress over one version of the tables."""

    def __init__(self, tables: Tables, index: int) -> None:
        self.index = index
        self.maps: dict[str, Any] = tables._asdict()
        self.changed: set[str] = set()
        self.alloc_nodes: set[str] = set()
        self._index_adds: dict[tuple[str, Any], list[str]] = {}
        # node ID -> allocations whose usage joins (+1) or leaves (-1) the node_usage index
        self._usage_changes: list[tuple[str, Allocation, int]] = []
        # job summaries already copied in this write: later allocations update them in place
        self._own_summaries: set[JobKey] = set()
        self._touched_jobs: set[JobKey] = set()

    def get(self, table: str, key: Any) -> Any:
        return self.maps[table].get(key)

    def put(self, table: str, key: Any, value: Any) -> None:
        self.maps[table] = self.maps[table].set(key, value)
        self.changed.add(table)

    def delete(self, table: str, key: Any) -> None:
        if key in self.maps[table]:
            self.maps[table] = self.maps[table].delete(key)
            self.changed.add(table)

    def index_add(self, name: str, key: Any, member: str) -> None:
        """Queue ``member`` for the index; queued members are added together (one mutation
        per index key) before anything reads the index in this write."""
        self._index_adds.setdefault((name, key), []).append(member)

    def flush_indexes(self) -> None:
        adds, self._index_adds = self._index_adds, {}
        by_name: dict[str, list[tuple[Any, list[str]]]] = {}
        for (name, key), members in adds.items():
            by_name.setdefault(name, []).append((key, members))
        for name, entries in by_name.items():
            index = self.maps[name]
            with index.mutate() as outer:
                for key, queued in entries:
                    current = index.get(key, _EMPTY)
                    members = [m for m in queued if m not in current]
                    if not members:
                        continue
                    with current.mutate() as inner:
                        for member in members:
                            inner[member] = True
                        outer[key] = inner.finish()
                self.maps[name] = outer.finish()

    def index_remove(self, name: str, key: Any, member: str) -> None:
        self.flush_indexes()
        members = self.maps[name].get(key)
        if members is not None and member in members:
            self.maps[name] = self.maps[name].set(key, members.delete(member))

    def finish(self) -> Tables:
        self.flush_indexes()
        if self._usage_changes:
            usage = self.maps["node_usage"]
            pending: dict[str, NodeAllocsUsage] = {}
            for node_id, alloc, sign in self._usage_changes:
                cur = pending.get(node_id) or usage.get(node_id) or NodeAllocsUsage()
                pending[node_id] = cur.plus(alloc, sign)
            with usage.mutate() as m:
                for node_id, total in pending.items():
                    m[node_id] = total
                self.maps["node_usage"] = m.finish()
        index_map = self.maps["table_index"]
        for table in self.changed:
            index_map = index_map.set(table, self.index)
        self.maps["table_index"] = index_map
        return Tables(**self.maps)

    # jobs

    def upsert_job(self, job: Job) -> Job:
        key = (job.namespace, job.id)
        old: Job | None = self.get("jobs", key)
        if old is None:
            job = _replace(job, create_index=self.index, job_modify_index=self.index, version=0)
        elif summaries.spec_changed(job, old):
            job = _replace(
                job,
                create_index=old.create_index,
                job_modify_index=self.index,
                version=old.version + 1,
                stable=False,
            )
        else:
            job = _replace(
                job,
                create_index=old.create_index,
                job_modify_index=old.job_modify_index,
                version=old.version,
                stable=old.stable,
                submit_time=old.submit_time,
            )
        job = _replace(job, modify_index=self.index, status=job.status or "pending")
        self.put_job(key, job)
        if job.is_periodic() and self.get("periodic_launch", key) is None:
            # Nomad records the registration as the first "launch": nothing is caught up
            # for the time before the job existed.
            self.upsert_periodic_launch(
                PeriodicLaunch(id=job.id, namespace=job.namespace, launch=job.submit_time)
            )
        versions: tuple[Job, ...] = self.get("job_versions", key) or ()
        kept = [v for v in versions if v.version != job.version]
        self.put("job_versions", key, (job, *kept)[:MAX_JOB_VERSIONS])
        summary = summaries.summary_for_job(job, self.get("job_summary", key), self.index)
        self.put("job_summary", key, summary)
        self._touched_jobs.add(key)
        return job

    def delete_job(self, key: JobKey) -> None:
        old: Job | None = self.get("jobs", key)
        if old is not None:
            self._count_child(old, -1)
        self.delete("jobs", key)
        self.delete("job_versions", key)
        self.delete("job_summary", key)
        self.delete("periodic_launch", key)

    def put_job(self, key: JobKey, job: Job) -> None:
        """Store ``job``, keeping its parent's Children counts (pending/running/dead) in step."""
        old: Job | None = self.get("jobs", key)
        self.put("jobs", key, job)
        if job.parent_id and (old is None or old.status != job.status):
            if old is not None:
                self._count_child(old, -1)
            self._count_child(job, 1)

    def _count_child(self, job: Job, delta: int) -> None:
        if not job.parent_id:
            return
        pkey = (job.namespace, job.parent_id)
        summary = self.get("job_summary", pkey)
        if summary is None:
            return
        new = summaries.count_child(summary, job.status, delta, self.index)
        self.put("job_summary", pkey, new)

    def upsert_periodic_launch(self, launch: PeriodicLaunch) -> None:
        key = (launch.namespace, launch.id)
        old: PeriodicLaunch | None = self.get("periodic_launch", key)
        create = old.create_index if old is not None else self.index
        self.put(
            "periodic_launch",
            key,
            _replace(launch, create_index=create, modify_index=self.index),
        )

    # evals

    def upsert_eval(self, ev: Evaluation) -> None:
        old: Evaluation | None = self.get("evals", ev.id)
        create = old.create_index if old is not None else self.index
        ev = _replace(ev, create_index=create, modify_index=self.index)
        self.put("evals", ev.id, ev)
        key = (ev.namespace, ev.job_id)
        self.index_add("evals_by_job", key, ev.id)
        summary = self.get("job_summary", key)
        if summary is not None:
            new = summaries.apply_queued(summary, ev, self.index)
            if new is not None:
                self.put("job_summary", key, new)
        self._touched_jobs.add(key)

    # allocs

    def upsert_alloc(self, alloc: Allocation, server_change: bool) -> None:
        old: Allocation | None = self.get("allocs", alloc.id)
        key = (alloc.namespace, alloc.job_id)
        if alloc.job is None:
            alloc = _replace(alloc, job=old.job if old is not None else self.get("jobs", key))
        create = old.create_index if old is not None else self.index
        alloc_modify = self.index if server_change or old is None else old.alloc_modify_index
        alloc = _replace(
            alloc, create_index=create, modify_index=self.index, alloc_modify_index=alloc_modify
        )
        self.put("allocs", alloc.id, alloc)
        deploys.count_alloc(self, old, alloc)
        if server_change:  # a client's own report need not wake its allocation watch
            self.alloc_nodes.add(alloc.node_id)
        was_live = old is not None and not old.terminal()
        same_holding = (
            was_live
            and old is not None
            and old.node_id == alloc.node_id
            and old.allocated_resources is alloc.allocated_resources
        )
        if alloc.terminal() or not same_holding:  # a status-only change holds the same
            if was_live and old is not None:
                self._usage_changes.append((old.node_id, old, -1))
            if not alloc.terminal():
                self._usage_changes.append((alloc.node_id, alloc, 1))
        if old is not None and old.node_id != alloc.node_id:
            self.index_remove("allocs_by_node", old.node_id, alloc.id)
            self.alloc_nodes.add(old.node_id)
        if old is None:
            self.index_add("allocs_by_job", key, alloc.id)
        if old is None or old.node_id != alloc.node_id:
            self.index_add("allocs_by_node", alloc.node_id, alloc.id)
        if old is None or old.eval_id != alloc.eval_id:
            self.index_add("allocs_by_eval", alloc.eval_id, alloc.id)
        summary = self.get("job_summary", key)
        if summary is not None:
            owned = key in self._own_summaries
            new = summaries.apply_alloc(summary, old, alloc, self.index, in_place=owned)
            if new is not None and not owned:
                self.put("job_summary", key, new)
                self._own_summaries.add(key)
        # The job's status reads only whether its allocations are terminal: a change that
        # keeps this one live (pending -> running) or terminal cannot move it.
        if old is None or old.terminal() != alloc.terminal():
            self._touched_jobs.add(key)

    def fix_job_statuses(self) -> None:
        """Re-derive the status of every job this write touched (Nomad's setJobStatuses)."""
        self.flush_indexes()
        allocs, evals = self.maps["allocs"], self.maps["evals"]
        for key in self._touched_jobs:
            job: Job | None = self.get("jobs", key)
            if job is None:
                continue
            status = summaries.job_status(
                job,
                _resolve(allocs, self.maps["allocs_by_job"].get(key, _EMPTY)),
                _resolve(evals, self.maps["evals_by_job"].get(key, _EMPTY)),
            )
            if status != job.status:
                self.put_job(key, _replace(job, status=status, modify_index=self.index))
