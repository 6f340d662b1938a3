"""The FSM's cost of C1M's client acknowledgements, without a server around it.

Registers nodes and jobs, places every job's allocations with APPLY_PLAN_RESULTS entries, then
applies ALLOC_CLIENT_UPDATE entries (``--batch`` allocations each, spread over all jobs as the
50 ms batching window mixes them) marking them ``running``. An event broker listens as on a
server (no subscribers). Prints µs per applied allocation update and per placement.

    uv run python benchmarks/fsm_alloc_updates.py                   # 5,000 nodes, 20 x 1,000
    uv run python benchmarks/fsm_alloc_updates.py --profile /tmp/fsm.prof
"""

from __future__ import annotations

import argparse
import cProfile
import time
import uuid

import msgspec

from nomadic.server.event_broker import EventBroker
from nomadic.state import FSM
from nomadic.state.entries import (
    AllocClientUpdate,
    ApplyPlanResults,
    EvalUpdateRequest,
    JobRegister,
    NodeRegister,
    encode_entry,
)
from nomadic.structs import (
    AllocatedCpuResources,
    AllocatedMemoryResources,
    AllocatedResources,
    AllocatedTaskResources,
    Allocation,
    AllocUpdate,
    Evaluation,
    Job,
    Node,
    Resources,
    Task,
    TaskGroup,
    canonicalize,
)


def _job(i: int, count: int) -> Job:
    task = Task(name="t", driver="mock", config={"run_for": "1h"}, resources=Resources())
    tg = TaskGroup(name="g", count=count, tasks=[task])
    return canonicalize(Job(id=f"c1m-{i:05d}", type="service", task_groups=[tg]))


def _alloc(job: Job, n: int, node_id: str, eval_id: str) -> Allocation:
    res = AllocatedResources(
        tasks={
            "t": AllocatedTaskResources(
                cpu=AllocatedCpuResources(cpu_shares=50),
                memory=AllocatedMemoryResources(memory_mb=100),
            )
        }
    )
    return Allocation(
        id=str(uuid.uuid4()),
        namespace=job.namespace,
        eval_id=eval_id,
        name=f"{job.id}.g[{n}]",
        node_id=node_id,
        job_id=job.id,
        task_group="g",
        allocated_resources=res,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=5000)
    p.add_argument("--jobs", type=int, default=20)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--batch", type=int, default=200, help="allocations per client update")
    p.add_argument("--profile", metavar="FILE", help="cProfile the timed applies into FILE")
    args = p.parse_args()

    fsm = FSM()
    fsm.add_apply_listener(EventBroker().on_apply)
    index = 0

    def apply(payload: object) -> float:
        nonlocal index
        index += 1
        entry = encode_entry(payload, f"r{index}")  # type: ignore[arg-type]
        start = time.perf_counter()
        fsm.apply(index, entry)
        return time.perf_counter() - start

    nodes = [f"node-{i:05d}" for i in range(args.nodes)]
    for nid in nodes:
        apply(NodeRegister(node=Node(id=nid, secret_id="s", name=nid, status="ready")))
    allocs: list[Allocation] = []
    plan_time = 0.0
    profiler = cProfile.Profile() if args.profile else None
    for j in range(args.jobs):
        job = _job(j, args.count)
        ev = Evaluation(id=str(uuid.uuid4()), job_id=job.id, type=job.type, status="pending")
        apply(JobRegister(job=job, eval=ev))
        placed = [
            _alloc(job, n, nodes[(j * args.count + n) % len(nodes)], ev.id)
            for n in range(args.count)
        ]
        done = msgspec.structs.replace(ev, status="complete")
        if profiler:
            profiler.enable()
        plan_time += apply(ApplyPlanResults(eval_id=ev.id, job=job, allocs_updated=placed))
        plan_time += apply(EvalUpdateRequest(evals=[done]))
        if profiler:
            profiler.disable()
        allocs += placed
    # acknowledgements arrive interleaved across jobs
    order = sorted(allocs, key=lambda a: a.name.rsplit("[", 1)[1])
    update_time = 0.0
    if profiler:
        profiler.enable()
    for start in range(0, len(order), args.batch):
        ups = [
            AllocUpdate(id=a.id, client_status="running") for a in order[start : start + args.batch]
        ]
        update_time += apply(AllocClientUpdate(allocs=ups))
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    snap = fsm.store.snapshot()
    running = sum(1 for a in snap.allocs() if a.client_status == "running")
    assert running == len(allocs), running
    total = len(allocs)
    print(
        f"{args.nodes:,} nodes, {args.jobs} jobs x {args.count:,}, client batches of {args.batch}"
    )
    print(f"plan results: {plan_time:6.2f}s  ({plan_time / total * 1e6:6.1f} us per placement)")
    print(f"client updates: {update_time:6.2f}s  ({update_time / total * 1e6:6.1f} us per update)")


if __name__ == "__main__":
    main()
