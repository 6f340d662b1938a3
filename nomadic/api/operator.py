"""``client.operator``: Raft configuration of the servers, state snapshots, scheduler config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nomadic.structs import SchedulerConfiguration
from nomadic.structs.requests import SchedulerSetConfigResponse

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Operator"]


class Operator:
    def __init__(self, client: Client) -> None:
        self._c = client

    def raft_configuration(self) -> dict[str, Any]:
        """``{"Index": ..., "Servers": [{"ID", "Node", "Address", "Leader", "Voter", ...}]}``."""
        return self._c.query("/v1/operator/raft/configuration", dict[str, Any])

    def raft_remove_peer(self, *, address: str = "", peer_id: str = "") -> None:
        """``DELETE /v1/operator/raft/peer``: by Raft (or RPC) address, or by ID."""
        params = {"address": address} if address else {"id": peer_id}
        self._c.request("DELETE", "/v1/operator/raft/peer", params=params)

    def snapshot_save(self) -> bytes:
        return self._c.request("GET", "/v1/operator/snapshot", timeout=300).content

    def snapshot_restore(self, data: bytes) -> int:
        resp = self._c.request("PUT", "/v1/operator/snapshot", raw=data, timeout=300)
        return int(resp.json().get("Index", 0))

    def scheduler_get_configuration(self) -> SchedulerConfiguration:
        body = self._c.query("/v1/operator/scheduler/configuration", dict[str, Any])
        from nomadic.structs import from_builtins

        return from_builtins(body.get("SchedulerConfig", {}), SchedulerConfiguration)

    def scheduler_set_configuration(
        self, config: SchedulerConfiguration
    ) -> SchedulerSetConfigResponse:
        return self._c.write(
            "PUT", "/v1/operator/scheduler/configuration", SchedulerSetConfigResponse, body=config
        )
