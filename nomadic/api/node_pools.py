"""``client.node_pools``: list, read, apply and delete node pools; their nodes and jobs."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING
from urllib.parse import quote

from nomadic.structs import JobListStub, NodeListStub, NodePool
from nomadic.structs.globalobjs import GlobalWriteResponse

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["NodePools"]


def _path(name: str, suffix: str = "") -> str:
    return f"/v1/node/pool/{quote(name, safe='')}{suffix}"


class NodePools:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "") -> builtins.list[NodePool]:
        return self._c.query("/v1/node/pools", list[NodePool], params={"prefix": prefix})

    def info(self, name: str) -> NodePool:
        return self._c.query(_path(name), NodePool)

    def register(self, pool: NodePool) -> GlobalWriteResponse:
        """Nomad's API client writes ``PUT /v1/node/pools`` with the pool as the body."""
        return self._c.write("PUT", "/v1/node/pools", GlobalWriteResponse, body=pool)

    def delete(self, name: str) -> GlobalWriteResponse:
        return self._c.write("DELETE", _path(name), GlobalWriteResponse)

    def nodes(self, name: str) -> builtins.list[NodeListStub]:
        return self._c.query(_path(name, "/nodes"), list[NodeListStub])

    def jobs(self, name: str) -> builtins.list[JobListStub]:
        return self._c.query(_path(name, "/jobs"), list[JobListStub])
