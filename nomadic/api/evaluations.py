"""``client.evaluations``: list and read evaluations and the allocations they placed."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from nomadic.structs import AllocListStub, Evaluation

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Evaluations"]


class Evaluations:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(
        self, prefix: str = "", *, job: str = "", status: str = ""
    ) -> builtins.list[Evaluation]:
        params = {k: v for k, v in (("prefix", prefix), ("job", job), ("status", status)) if v}
        return self._c.query("/v1/evaluations", list[Evaluation], params=params)

    def info(self, eval_id: str, *, index: int = 0, wait: float | None = None) -> Evaluation:
        return self._c.query(f"/v1/evaluation/{eval_id}", Evaluation, index=index, wait=wait)

    def allocations(
        self, eval_id: str, *, index: int = 0, wait: float | None = None
    ) -> builtins.list[AllocListStub]:
        return self._c.query(
            f"/v1/evaluation/{eval_id}/allocations", list[AllocListStub], index=index, wait=wait
        )
