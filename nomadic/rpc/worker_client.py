"""A follower's scheduler workers reach the leader's broker and plan queue over gRPC.

:class:`RemoteSchedulingLeader` implements ``nomadic.server.worker.SchedulingLeader`` with
``Eval.Dequeue`` (a long-poll the leader holds open until an eval is ready or the timeout
passes), ``Eval.Ack``/``Eval.Nack``, ``Eval.Update`` and ``Plan.Submit``. It is made afresh
for whatever the follower currently believes the leader is, so after a leader change the next
worker loop talks to the new one; an eval held by a worker of the old leader's era is nacked
by its timer there, or redelivered by the new leader's broker refill.
"""

from __future__ import annotations

from nomadic.structs import Evaluation, Plan, PlanResult

from .client import RPCPool
from .wire import (
    EvalAckRequest,
    EvalDequeueReply,
    EvalDequeueRequest,
    EvalUpdateWire,
    IndexReply,
)

__all__ = ["RemoteSchedulingLeader"]

CALL_SLACK = 10.0  # seconds a call may take beyond what the leader is asked to wait
PLAN_SUBMIT_TIMEOUT = 120.0
EVAL_UPDATE_TIMEOUT = 40.0


class RemoteSchedulingLeader:
    remote = True

    def __init__(self, pool: RPCPool, addr: str) -> None:
        self._pool = pool
        self.addr = addr

    async def dequeue(
        self, schedulers: list[str], timeout: float
    ) -> tuple[Evaluation, str, int] | None:
        req = EvalDequeueRequest(schedulers=schedulers, timeout=timeout)
        reply = await self._pool.call(
            self.addr, "Eval.Dequeue", req, EvalDequeueReply, timeout=timeout + CALL_SLACK
        )
        if reply.eval is None:
            return None
        return reply.eval, reply.token, reply.wait_index

    async def ack(self, eval_id: str, token: str) -> None:
        req = EvalAckRequest(eval_id=eval_id, token=token)
        await self._pool.call(self.addr, "Eval.Ack", req, IndexReply)

    async def nack(self, eval_id: str, token: str) -> None:
        req = EvalAckRequest(eval_id=eval_id, token=token)
        await self._pool.call(self.addr, "Eval.Nack", req, IndexReply)

    async def update_evals(self, eval_id: str, token: str, evals: list[Evaluation]) -> int:
        req = EvalUpdateWire(eval_id=eval_id, token=token, evals=evals)
        reply = await self._pool.call(
            self.addr, "Eval.Update", req, IndexReply, timeout=EVAL_UPDATE_TIMEOUT
        )
        return reply.index

    async def submit_plan(self, plan: Plan) -> PlanResult:
        return await self._pool.call(
            self.addr, "Plan.Submit", plan, PlanResult, timeout=PLAN_SUBMIT_TIMEOUT
        )
