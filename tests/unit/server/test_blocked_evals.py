"""BlockedEvals: unblocked by capacity on a class that could fit, deduplicated per job."""

from __future__ import annotations

from nomadic.server.blocked_evals import BlockedEvals
from nomadic.server.broker import EvalBroker
from nomadic.structs import Evaluation


def blocked(
    eval_id: str,
    job: str,
    *,
    classes: dict[str, bool] | None = None,
    escaped: bool = False,
    index: int = 1,
    snapshot: int = 0,
) -> Evaluation:
    return Evaluation(
        id=eval_id,
        job_id=job,
        type="service",
        status="blocked",
        class_eligibility=classes or {},
        escaped_computed_class=escaped,
        create_index=index,
        modify_index=index,
        snapshot_index=snapshot,
    )


def tracker() -> tuple[EvalBroker, BlockedEvals]:
    broker = EvalBroker()
    broker.set_enabled(True)
    b = BlockedEvals(broker)
    b.set_enabled(True)
    return broker, b


def ready(broker: EvalBroker) -> int:
    return broker.stats()["TotalReady"]


async def test_capacity_on_an_ineligible_class_leaves_the_eval_blocked() -> None:
    broker, b = tracker()
    b.block(blocked("e1", "web", classes={"gpu": True, "small": False}))
    assert b.unblock(10, ["small"]) == 0
    assert [e.id for e in b.blocked()] == ["e1"] and ready(broker) == 0
    assert b.unblock(11, ["gpu"]) == 1
    assert b.blocked() == [] and ready(broker) == 1


async def test_an_unknown_class_may_fit_so_it_unblocks() -> None:
    broker, b = tracker()
    b.block(blocked("e1", "web", classes={"small": False}))
    assert b.unblock(10, ["brand-new"]) == 1
    assert ready(broker) == 1


async def test_escaped_evals_unblock_on_any_class() -> None:
    _, b = tracker()
    b.block(blocked("e1", "web", classes={"small": False}, escaped=True))
    b.block(blocked("e2", "db", classes={"small": False}))
    assert b.unblock(10, ["small"]) == 1
    assert [e.id for e in b.blocked()] == ["e2"]
    assert b.stats() == {"TotalBlocked": 1, "TotalEscaped": 0}


async def test_one_blocked_eval_per_job_older_is_a_duplicate() -> None:
    _, b = tracker()
    b.block(blocked("old", "web", index=5))
    b.block(blocked("new", "web", index=9))
    b.block(blocked("older", "web", index=3))
    assert [e.id for e in b.blocked()] == ["new"]
    assert sorted(e.id for e in b.take_duplicates()) == ["old", "older"]


async def test_capacity_missed_while_scheduling_unblocks_at_once() -> None:
    broker, b = tracker()
    b.unblock(20, ["gpu"])
    b.unblock(25, ["small"])
    b.block(blocked("e1", "web", classes={"gpu": False, "small": False}, snapshot=22))
    assert [e.id for e in b.blocked()] == ["e1"]  # only an ineligible class changed since
    b.block(blocked("e2", "db", classes={"gpu": True, "small": False}, snapshot=15))
    assert [e.id for e in b.blocked()] == ["e1"] and ready(broker) == 1
