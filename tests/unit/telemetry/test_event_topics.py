"""Nomad's events from FSM applies, and the topic/namespace filter of the event stream."""

from __future__ import annotations

import pytest

from nomadic.errors import ValidationError
from nomadic.http.events import parse_topics
from nomadic.server.event_broker import EventBroker, TopicFilter, encode_batch
from nomadic.state.entries import JobRegister, NodeRegister, encode_entry
from nomadic.state.events import Event
from nomadic.state.fsm import FSM
from nomadic.testing.factories import mock_job, mock_node


def _fsm_with_events() -> tuple[FSM, EventBroker]:
    fsm = FSM()
    broker = EventBroker()
    fsm.add_apply_listener(broker.on_apply)
    return fsm, broker


def test_job_register_yields_job_and_evaluation_events() -> None:
    from nomadic.server.endpoints.base import new_eval
    from nomadic.structs.consts import TRIGGER_JOB_REGISTER

    fsm, broker = _fsm_with_events()
    job = mock_job()
    ev = new_eval(job, TRIGGER_JOB_REGISTER)
    fsm.apply(5, encode_entry(JobRegister(job=job, eval=ev), "r1"))
    (batch,) = broker.after(0)
    assert batch.index == 5
    encoded = batch.encoded()
    assert [(e["Topic"], e["Type"], e["Key"]) for e in encoded] == [
        ("Job", "JobRegistered", job.id),
        ("Evaluation", "JobRegistered", ev.id),
    ]
    assert encoded[0]["Payload"]["Job"]["ID"] == job.id
    assert encoded[0]["Index"] == 5
    assert encoded[1]["FilterKeys"] == [job.id]


def test_every_server_builds_the_same_events() -> None:
    node = mock_node()
    entry = encode_entry(NodeRegister(node=node), "r2")
    streams = []
    for _ in range(2):
        fsm, broker = _fsm_with_events()
        fsm.apply(9, entry)
        streams.append([b.encoded() for b in broker.after(0)])
    assert streams[0] == streams[1]
    assert streams[0][0][0]["Payload"]["Node"]["SecretID"] == ""


def _event(topic: str, key: str, namespace: str = "default", *filter_keys: str) -> Event:
    return Event(topic, "T", key, namespace, 1, None, tuple(filter_keys))


@pytest.mark.parametrize(
    ("topics", "namespace", "event", "wanted"),
    [
        ([], "default", _event("Job", "web"), True),
        (["Job"], "default", _event("Job", "web"), True),
        (["Job:web"], "default", _event("Job", "web"), True),
        (["Job:api"], "default", _event("Job", "web"), False),
        (["Allocation:web"], "default", _event("Allocation", "a1", "default", "web"), True),
        (["Job:*"], "default", _event("Job", "web", "prod"), False),
        (["Job:*"], "*", _event("Job", "web", "prod"), True),
        (["Node"], "default", _event("Node", "n1", ""), True),
        (["*"], "default", _event("Evaluation", "e1"), True),
        (["Evaluation"], "default", _event("Job", "web"), False),
    ],
    ids=[
        "all",
        "topic",
        "key",
        "other-key",
        "filter-key",
        "other-namespace",
        "any-namespace",
        "node-no-namespace",
        "star",
        "other-topic",
    ],
)
def test_topic_filter(topics: list[str], namespace: str, event: Event, wanted: bool) -> None:
    assert TopicFilter(parse_topics(topics), namespace).wants(event) is wanted


def test_bad_topic_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="invalid topic 'Jobs:web': use one of Job"):
        parse_topics(["Jobs:web"])


def test_buffer_is_bounded_and_index_replays_from_closest() -> None:
    broker = EventBroker(size=3)
    fsm = FSM()
    fsm.add_apply_listener(broker.on_apply)
    for index in range(1, 6):
        fsm.apply(index, encode_entry(NodeRegister(node=mock_node()), f"n{index}"))
    assert [b.index for b in broker.after(0)] == [3, 4, 5]
    assert [b.index for b in broker.after(4)] == [4, 5]
    line = encode_batch(broker.after(5)[0], TopicFilter(parse_topics(["Node"])))
    assert line is not None and line.endswith(b"\n") and b'"Index": 5' in line
    assert encode_batch(broker.after(5)[0], TopicFilter(parse_topics(["Job"]))) is None


def test_a_batch_read_later_shows_the_state_at_its_own_index() -> None:
    from nomadic.state.entries import AllocClientUpdate, ApplyPlanResults
    from nomadic.structs import AllocUpdate
    from nomadic.testing.factories import mock_alloc

    fsm, broker = _fsm_with_events()
    alloc = mock_alloc()
    fsm.apply(1, encode_entry(ApplyPlanResults(allocs_updated=[alloc]), "p1"))
    for index, status in ((2, "running"), (3, "complete")):
        update = AllocClientUpdate(allocs=[AllocUpdate(id=alloc.id, client_status=status)])
        fsm.apply(index, encode_entry(update, f"u{index}"))
    # nobody read the batches while they were applied: they are built now
    seen = [
        (b.index, b.encoded()[0]["Payload"]["Allocation"]["ClientStatus"]) for b in broker.after(2)
    ]
    assert seen == [(2, "running"), (3, "complete")]


async def test_a_late_subscriber_replays_the_buffer_then_follows_new_entries() -> None:
    import asyncio

    fsm, broker = _fsm_with_events()
    broker.start(asyncio.get_running_loop())
    fsm.apply(1, encode_entry(NodeRegister(node=mock_node()), "n1"))  # no subscriber yet
    stream = broker.subscribe(0, heartbeat=5.0)
    first = await anext(stream)
    assert first is not None and first.index == 1
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # let the subscriber park on its wake-up
    # applied from another thread, as pysyncobj does
    await asyncio.to_thread(fsm.apply, 2, encode_entry(NodeRegister(node=mock_node()), "n2"))
    async with asyncio.timeout(5):
        second = await waiting
    assert second is not None and second.index == 2
    await stream.aclose()
