"""``GET /v1/event/stream``: Nomad's event stream as newline-delimited JSON.

Query: ``topic=<Topic>:<key>`` (repeatable; ``Job:web``, ``Allocation:*``, ``*``; a topic
without ``:key`` means every key; none means every topic), ``namespace`` (default ``default``,
``*`` for all), ``index`` (replay buffered events from this Raft index). Each line is
``{"Index": N, "Events": [...]}``; ``{}`` is sent after ``HEARTBEAT_INTERVAL`` seconds without
events, so proxies and clients can tell a quiet stream from a dead one.
"""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.query import server_of
from nomadic.server.event_broker import TopicFilter, encode_batch
from nomadic.state.events import TOPICS

__all__ = ["HEARTBEAT_INTERVAL", "parse_topics", "routes"]

routes = web.RouteTableDef()

HEARTBEAT_INTERVAL = 10.0  # seconds, Nomad's event stream heartbeat


def parse_topics(values: list[str]) -> dict[str, frozenset[str]]:
    if not values:
        return {"*": frozenset({"*"})}
    topics: dict[str, set[str]] = {}
    for value in values:
        topic, _, key = value.partition(":")
        if topic != "*" and topic not in TOPICS:
            raise ValidationError(
                f"invalid topic {value!r}: use one of {', '.join(TOPICS)} or *, "
                "optionally with :<key> (e.g. Job:web)"
            )
        topics.setdefault(topic, set()).add(key or "*")
    return {t: frozenset(k) for t, k in topics.items()}


@routes.get("/v1/event/stream")
async def event_stream(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    flt = TopicFilter(
        parse_topics(request.query.getall("topic", [])),
        request.query.get("namespace", "") or "default",
    )
    try:
        index = int(request.query.get("index", "0") or "0")
    except ValueError:
        raise ValidationError("invalid index: must be an integer") from None
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    async for batch in server.events.subscribe(index, HEARTBEAT_INTERVAL):
        line = b"{}\n" if batch is None else encode_batch(batch, flt)
        if line is not None:
            await response.write(line)
    return response
