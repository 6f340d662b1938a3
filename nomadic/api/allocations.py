"""``client.allocations``: list, read, stop allocations and read their resource usage."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from nomadic.structs import Allocation, AllocListStub
from nomadic.structs.requests import AllocStopResponse

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Allocations"]


class Allocations:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(
        self, prefix: str = "", *, index: int = 0, wait: float | None = None
    ) -> builtins.list[AllocListStub]:
        return self._c.query(
            "/v1/allocations",
            list[AllocListStub],
            params={"prefix": prefix},
            index=index,
            wait=wait,
        )

    def info(self, alloc_id: str, *, index: int = 0, wait: float | None = None) -> Allocation:
        return self._c.query(f"/v1/allocation/{alloc_id}", Allocation, index=index, wait=wait)

    def stop(self, alloc_id: str) -> AllocStopResponse:
        return self._c.write("PUT", f"/v1/allocation/{alloc_id}/stop", AllocStopResponse)

    def stats(self, alloc_id: str) -> dict[str, Any]:
        return self._c.query(f"/v1/client/allocation/{alloc_id}/stats", dict[str, Any])
