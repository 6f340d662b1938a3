"""``client.status``: the cluster leader, Raft peers and known regions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Status"]


class Status:
    def __init__(self, client: Client) -> None:
        self._c = client

    def leader(self) -> str:
        return self._c.query("/v1/status/leader", str)

    def peers(self) -> list[str]:
        return self._c.query("/v1/status/peers", list[str])

    def regions(self) -> list[str]:
        return self._c.query("/v1/regions", list[str])
