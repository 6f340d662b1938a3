"""``client.agent``: the agent describing itself, its server members and its health."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec

from nomadic.structs.codec import Base
from nomadic.structs.requests import ServerMember

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Agent", "ServerMembers"]


class ServerMembers(Base):
    server_name: str = ""
    server_region: str = ""
    server_dc: str = msgspec.field(default="", name="ServerDC")
    members: list[ServerMember] = msgspec.field(default_factory=list)


class Agent:
    def __init__(self, client: Client) -> None:
        self._c = client

    def self(self) -> dict[str, Any]:
        return self._c.query("/v1/agent/self", dict[str, Any])

    def members(self) -> ServerMembers:
        return self._c.query("/v1/agent/members", ServerMembers)

    def join(self, addresses: list[str]) -> tuple[int, str]:
        """Federate the agent's server with the servers at ``addresses`` (``PUT
        /v1/agent/join``): how many were joined, and the errors of the others."""
        resp = self._c.request("PUT", "/v1/agent/join", params={"address": addresses})
        body = resp.json()
        return int(body.get("num_joined", 0)), str(body.get("error", ""))

    def force_leave(self, node: str) -> None:
        """Mark the server ``node`` (its member name) left (``PUT /v1/agent/force-leave``)."""
        self._c.request("PUT", "/v1/agent/force-leave", params={"node": node})

    def health(self) -> dict[str, Any]:
        return self._c.query("/v1/agent/health", dict[str, Any])

    def monitor(self, log_level: str = "INFO", log_json: bool = False) -> Iterator[bytes]:
        """The agent's log lines as they are written (``GET /v1/agent/monitor``)."""
        params = {"log_level": log_level, "log_json": log_json or None, "plain": True}
        return self._c.stream("/v1/agent/monitor", params)
