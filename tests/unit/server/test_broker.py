"""EvalBroker: priority order, per-job serialisation, nack redelivery, delivery limit."""

from __future__ import annotations

import time

import pytest

from nomadic.errors import NotFoundError
from nomadic.server.broker import FAILED_QUEUE, BrokerConfig, EvalBroker
from nomadic.structs import Evaluation


def ev(
    eval_id: str, job: str, *, priority: int = 50, index: int = 1, typ: str = "service"
) -> Evaluation:
    return Evaluation(
        id=eval_id, job_id=job, priority=priority, type=typ, create_index=index, modify_index=index
    )


def broker(**cfg: float) -> EvalBroker:
    b = EvalBroker(BrokerConfig(**cfg))  # type: ignore[arg-type]
    b.set_enabled(True)
    return b


async def test_higher_priority_first_then_fifo() -> None:
    b = broker()
    b.enqueue(ev("low", "j1", priority=10, index=1))
    b.enqueue(ev("old", "j2", priority=50, index=2))
    b.enqueue(ev("new", "j3", priority=50, index=3))
    b.enqueue(ev("high", "j4", priority=90, index=4))
    order = []
    for _ in range(4):
        got = await b.dequeue(["service"], 0.1)
        assert got is not None
        order.append(got[0].id)
    assert order == ["high", "old", "new", "low"]


async def test_dequeue_only_hands_out_requested_types_and_times_out() -> None:
    b = broker()
    b.enqueue(ev("b1", "j1", typ="batch"))
    assert await b.dequeue(["service"], 0.05) is None
    got = await b.dequeue(["service", "batch"], 0.05)
    assert got is not None and got[0].id == "b1"


async def test_one_eval_per_job_in_flight_and_newest_pending_wins() -> None:
    b = broker()
    b.enqueue(ev("e1", "web", index=1))
    b.enqueue(ev("e2", "web", index=2))
    b.enqueue(ev("e3", "web", index=3))
    got = await b.dequeue(["service"], 0.05)
    assert got is not None and got[0].id == "e1"
    assert await b.dequeue(["service"], 0.05) is None  # e2/e3 wait for e1
    b.ack("e1", got[1])
    nxt = await b.dequeue(["service"], 0.05)
    assert nxt is not None and nxt[0].id == "e3"
    assert [e.id for e in b.take_cancelable()] == ["e2"]


async def test_nack_redelivers_and_limit_sends_to_failed_queue() -> None:
    b = broker(initial_reenqueue_delay=0.01, subsequent_reenqueue_delay=0.01, delivery_limit=3)
    b.enqueue(ev("e1", "web"))
    for _ in range(3):
        got = await b.dequeue(["service"], 2.0)
        assert got is not None and got[0].id == "e1"
        b.nack("e1", got[1])
    assert await b.dequeue(["service"], 0.05) is None
    failed = await b.dequeue([FAILED_QUEUE], 0.5)
    assert failed is not None and failed[0].id == "e1"
    assert b.stats()["TotalUnacked"] == 1


def test_reenqueue_delay_follows_nomad() -> None:
    b = EvalBroker()
    assert [b.reenqueue_delay(n) for n in (0, 1, 2, 3)] == [0.0, 1.0, 20.0, 40.0]


async def test_nack_timeout_redelivers_an_unacked_eval() -> None:
    b = broker(nack_timeout=0.05, initial_reenqueue_delay=0.0)
    b.enqueue(ev("e1", "web"))
    first = await b.dequeue(["service"], 0.5)
    assert first is not None
    again = await b.dequeue(["service"], 2.0)
    assert again is not None and again[0].id == "e1" and again[1] != first[1]
    with pytest.raises(NotFoundError):
        b.ack("e1", first[1])  # the stale token no longer counts


async def test_paused_nack_timer_does_not_fire() -> None:
    b = broker(nack_timeout=0.05)
    b.enqueue(ev("e1", "web"))
    got = await b.dequeue(["service"], 0.5)
    assert got is not None
    b.pause_nack_timeout("e1", got[1])
    assert await b.dequeue(["service"], 0.2) is None
    assert b.outstanding("e1") == got[1]


async def test_wait_until_holds_the_eval() -> None:
    b = broker()
    delayed = ev("e1", "web")
    delayed.wait_until = time.time_ns() + 100_000_000  # 0.1 s
    b.enqueue(delayed)
    assert await b.dequeue(["service"], 0.02) is None
    got = await b.dequeue(["service"], 2.0)
    assert got is not None and got[0].id == "e1"


async def test_an_eval_enqueued_while_outstanding_is_redelivered_after_ack() -> None:
    b = broker()
    b.enqueue(ev("e1", "web"))
    got = await b.dequeue(["service"], 0.1)
    assert got is not None
    b.enqueue(ev("e1", "web"))  # e.g. unblocked while its worker still holds it
    assert await b.dequeue(["service"], 0.02) is None
    b.ack("e1", got[1])
    again = await b.dequeue(["service"], 0.1)
    assert again is not None and again[0].id == "e1"


async def test_disabled_broker_drops_everything() -> None:
    b = broker()
    b.enqueue(ev("e1", "web"))
    b.set_enabled(False)
    b.set_enabled(True)
    assert await b.dequeue(["service"], 0.02) is None
