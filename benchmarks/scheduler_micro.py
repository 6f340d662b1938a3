"""One service evaluation through the pure scheduler: Nomad's ``BenchmarkServiceScheduler``.

The shape of ``scheduler/benchmarks/benchmarks_test.go``: nodes in two datacenters with a
``meta.rack`` (25 racks by default), 14,000 MHz / 32,000 MB / 100 GB each; a service job whose
single task asks 6,000 MHz and 6,000 MB, constrained with ``set_contains_any`` to half the
racks, optionally with ``spread { attribute = "${meta.rack}" }``. The plan is recorded by the
:class:`~nomadic.testing.harness.Harness` and not applied (``no_submit``), so only the
scheduler's compute is measured. Each case runs ``--repeat`` times on fresh harnesses and
prints the median.

    uv run python benchmarks/scheduler_micro.py                     # the whole matrix
    uv run python benchmarks/scheduler_micro.py --nodes 5000 --allocs 300 --spread no
    uv run python benchmarks/scheduler_micro.py --profile           # cProfile of one case
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
import uuid

import msgspec

from nomadic.structs import (
    Constraint,
    NodeCpuResources,
    NodeDiskResources,
    NodeMemoryResources,
    NodeResources,
    Plan,
    PlanResult,
    Resources,
    Spread,
)
from nomadic.structs.funcs import compute_node_class
from nomadic.testing.factories import mock_eval, mock_job, mock_node
from nomadic.testing.harness import Harness

NODE_SIZES = (500, 1000, 5000, 10000)
JOB_SIZES = (50, 300, 1200)
DATACENTERS = ("dc-1", "dc-2")


class NoSubmitHarness(Harness):
    """Records plans without applying them (Nomad's ``h.SetNoSubmit()``)."""

    def submit_plan(self, plan: Plan) -> tuple[PlanResult, None]:  # type: ignore[override]
        self.plans.append(plan)
        return PlanResult(node_allocation=plan.node_allocation, node_update=plan.node_update), None


def build_harness(nodes: int, racks: int) -> Harness:
    h = NoSubmitHarness()
    template = mock_node()
    for i in range(nodes):
        node = msgspec.structs.replace(
            template,
            id=str(uuid.uuid4()),
            name=f"node-{i}",
            datacenter=DATACENTERS[i % 2],
            meta={"rack": f"r{i % racks}"},
            node_resources=NodeResources(
                cpu=NodeCpuResources(cpu_shares=14000, total_cpu_cores=14),
                memory=NodeMemoryResources(memory_mb=32000),
                disk=NodeDiskResources(disk_mb=100 * 1024),
                networks=template.node_resources.networks,
            ),
        )
        node.computed_class = compute_node_class(node)
        h.state.upsert_node(node)
    return h


def generate_job(count: int, racks: int, spread: bool):  # type: ignore[no-untyped-def]
    eligible = ",".join(f"r{i}" for i in range(0, racks, 2))
    job = mock_job(id="perf-job", datacenters=list(DATACENTERS))
    job.constraints = [
        Constraint(l_target="${meta.rack}", r_target=eligible, operand="set_contains_any")
    ]
    tg = job.task_groups[0]
    tg.count = count
    tg.networks = []
    tg.tasks[0].resources = Resources(cpu=6000, memory_mb=6000)
    if spread:
        tg.spreads = [Spread(attribute="${meta.rack}", weight=100)]
    return job


def run_case(nodes: int, count: int, spread: bool, racks: int) -> tuple[float, int]:
    """(seconds for one eval, allocations placed)."""
    h = build_harness(nodes, racks)
    job = h.state.upsert_job(generate_job(count, racks, spread))
    ev = mock_eval(job)
    h.state.upsert_eval(ev)
    began = time.perf_counter()
    h.process(ev)
    elapsed = time.perf_counter() - began
    placed = sum(len(v) for p in h.plans for v in p.node_allocation.values())
    return elapsed, placed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="*", default=list(NODE_SIZES))
    p.add_argument("--allocs", type=int, nargs="*", default=list(JOB_SIZES))
    p.add_argument("--spread", choices=("both", "yes", "no"), default="both")
    p.add_argument("--racks", type=int, default=25)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="cProfile the first case, top 30")
    args = p.parse_args()
    spreads = {"both": (False, True), "yes": (True,), "no": (False,)}[args.spread]

    head = ("nodes", "allocs", "spread", "placed")
    print(" ".join(f"{h:>6}" for h in head), f"{'ms/eval':>9} {'placements/s':>12}")
    for nodes in args.nodes:
        for count in args.allocs:
            for spread in spreads:
                if args.profile:
                    prof = cProfile.Profile()
                    prof.enable()
                    run_case(nodes, count, spread, args.racks)
                    prof.disable()
                    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
                    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
                    return
                runs = [run_case(nodes, count, spread, args.racks) for _ in range(args.repeat)]
                secs = statistics.median(r[0] for r in runs)
                placed = runs[0][1]
                rate = placed / secs if secs else 0.0
                print(
                    f"{nodes:>6} {count:>6} {'yes' if spread else 'no':>6} {placed:>6} "
                    f"{secs * 1000:>9.1f} {rate:>12.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
