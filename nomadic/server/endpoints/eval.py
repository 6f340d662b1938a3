"""Eval and Plan endpoints for scheduler workers (Nomad's ``eval_endpoint.go`` and
``plan_endpoint.go``): the leader's side of the worker protocol.

    worker (any server) --Eval.Dequeue--> broker          (blocks up to the timeout)
                        --Plan.Submit---> plan queue      (token checked, nack timer paused)
                        --Eval.Update---> Raft            (token checked)
                        --Eval.Ack/Nack-> broker

A leader-local worker calls these methods directly; a follower's worker reaches them over gRPC
(``nomadic.rpc``). Every write for an eval is refused unless the caller still holds the eval's
current token: after a nack timeout or a leader change another worker owns it, and a stale
worker's result must not land.
"""

from __future__ import annotations

import time
from typing import Protocol

from nomadic.errors import NoLeaderError, NotFoundError
from nomadic.state.entries import EvalUpdateRequest, Payload
from nomadic.structs import Evaluation, Plan, PlanResult
from nomadic.telemetry import default_sink

from ..broker import EvalBroker
from ..plan_queue import PlanQueue

__all__ = ["EvalEndpoint", "EvalHost"]


class EvalHost(Protocol):
    broker: EvalBroker
    plan_queue: PlanQueue

    async def apply(self, payload: Payload) -> int: ...

    def is_leader(self) -> bool: ...


class EvalEndpoint:
    """Implements ``nomadic.server.worker.SchedulingLeader`` on the leader."""

    remote = False

    def __init__(self, host: EvalHost) -> None:
        self._host = host

    def _broker(self) -> EvalBroker:
        if not self._host.is_leader():
            raise NoLeaderError()
        return self._host.broker

    async def dequeue(
        self, schedulers: list[str], timeout: float
    ) -> tuple[Evaluation, str, int] | None:
        """Eval.Dequeue: (eval, token, index the worker's state must reach) or None."""
        got = await self._broker().dequeue(schedulers, timeout)
        if got is None:
            return None
        ev, token = got
        return ev, token, ev.modify_index

    async def ack(self, eval_id: str, token: str) -> None:
        self._broker().ack(eval_id, token)

    async def nack(self, eval_id: str, token: str) -> None:
        self._broker().nack(eval_id, token)

    async def update_evals(self, eval_id: str, token: str, evals: list[Evaluation]) -> int:
        """Eval.Update / Eval.Create / Eval.Reblock: commit evals written by a scheduler."""
        self._check_token(eval_id, token)
        return await self._host.apply(EvalUpdateRequest(evals=evals))

    async def submit_plan(self, plan: Plan) -> PlanResult:
        """Plan.Submit: queue the plan for the applier; the eval's nack timer pauses meanwhile."""
        broker = self._broker()
        self._check_token(plan.eval_id, plan.eval_token)
        broker.pause_nack_timeout(plan.eval_id, plan.eval_token)
        start = time.monotonic()
        try:
            return await self._host.plan_queue.enqueue(plan)
        finally:
            default_sink.measure_since("nomad.nomad.plan.submit", start)
            broker.resume_nack_timeout(plan.eval_id, plan.eval_token)

    def _check_token(self, eval_id: str, token: str) -> None:
        if self._broker().outstanding(eval_id) != token:
            raise NotFoundError(
                f"evaluation {eval_id} is no longer held by this worker (nack timeout "
                "or leadership change); its result is dropped"
            )
