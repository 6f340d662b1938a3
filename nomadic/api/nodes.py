"""``client.nodes``: list and read client nodes and their allocations."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from nomadic.structs import Allocation, Node, NodeListStub

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Nodes"]


class Nodes:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "") -> builtins.list[NodeListStub]:
        return self._c.query("/v1/nodes", list[NodeListStub], params={"prefix": prefix})

    def info(self, node_id: str) -> Node:
        return self._c.query(f"/v1/node/{node_id}", Node)

    def allocations(self, node_id: str) -> builtins.list[Allocation]:
        return self._c.query(f"/v1/node/{node_id}/allocations", list[Allocation])
