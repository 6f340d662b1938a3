"""``/v1/evaluations`` and ``/v1/evaluation/:id[/allocations]``: Nomad's evaluation endpoints."""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import NotFoundError
from nomadic.http.query import Query, blocking
from nomadic.state.interfaces import StateSnapshot
from nomadic.structs import AllocListStub, Evaluation

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/v1/evaluations")
async def list_evals(request: web.Request) -> web.Response:
    prefix = Query.of(request).prefix
    job = request.query.get("job", "")
    status = request.query.get("status", "")

    def read(snap: StateSnapshot) -> list[Evaluation]:
        return [
            e
            for e in snap.evals(prefix)
            if (not job or e.job_id == job) and (not status or e.status == status)
        ]

    return await blocking(request, ("evals",), read)


@routes.get("/v1/evaluation/{eval_id}")
async def get_eval(request: web.Request) -> web.Response:
    eval_id = request.match_info["eval_id"]

    def read(snap: StateSnapshot) -> Evaluation:
        ev = snap.eval_by_id(eval_id)
        if ev is None:
            raise NotFoundError("eval not found")
        return ev

    return await blocking(request, ("evals",), read)


@routes.get("/v1/evaluation/{eval_id}/allocations")
async def eval_allocs(request: web.Request) -> web.Response:
    eval_id = request.match_info["eval_id"]

    def read(snap: StateSnapshot) -> list[AllocListStub]:
        return [a.stub() for a in snap.allocs_by_eval(eval_id)]

    return await blocking(request, ("allocs",), read)
