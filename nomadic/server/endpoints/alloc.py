"""Alloc endpoint: Alloc.Stop (Nomad's ``nomad/alloc_endpoint.go``).

Stopping an allocation marks it for migration (a desired transition) and creates an
``alloc-stop`` evaluation in the same Raft entry; the scheduler then stops it and places a
replacement, as ``nomad alloc stop`` does.
"""

from __future__ import annotations

from nomadic.errors import NotFoundError
from nomadic.state.entries import AllocDesiredTransitionUpdate
from nomadic.structs import DesiredTransition
from nomadic.structs.consts import TRIGGER_ALLOC_STOP
from nomadic.structs.requests import AllocStopResponse

from .base import Host, new_eval

__all__ = ["AllocEndpoint"]


class AllocEndpoint:
    def __init__(self, host: Host) -> None:
        self._host = host

    async def stop(self, alloc_id: str) -> AllocStopResponse:
        snap = self._host.snapshot()
        alloc = snap.alloc_by_id(alloc_id)
        if alloc is None:
            raise NotFoundError(f"allocation {alloc_id} not found")
        job = snap.job_by_id(alloc.namespace, alloc.job_id) or alloc.job
        if job is None:
            raise NotFoundError(f"allocation {alloc_id}: its job {alloc.job_id} no longer exists")
        ev = new_eval(job, TRIGGER_ALLOC_STOP)
        entry = AllocDesiredTransitionUpdate(
            allocs={alloc_id: DesiredTransition(migrate=True)}, evals=[ev]
        )
        index = await self._host.apply(entry)
        return AllocStopResponse(eval_id=ev.id, index=index)
