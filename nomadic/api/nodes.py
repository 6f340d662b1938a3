"""``client.nodes``: list and read client nodes and their allocations; drain them and change
their scheduling eligibility."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from nomadic.structs import Allocation, DrainSpec, Node, NodeListStub
from nomadic.structs.requests import NodeUpdateResponseEvals

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Nodes"]


class Nodes:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "") -> builtins.list[NodeListStub]:
        return self._c.query("/v1/nodes", list[NodeListStub], params={"prefix": prefix})

    def info(self, node_id: str, *, index: int = 0, wait: float | None = None) -> Node:
        return self._c.query(f"/v1/node/{node_id}", Node, index=index, wait=wait)

    def allocations(self, node_id: str) -> builtins.list[Allocation]:
        return self._c.query(f"/v1/node/{node_id}/allocations", list[Allocation])

    def update_drain(
        self,
        node_id: str,
        spec: DrainSpec | None,
        *,
        mark_eligible: bool = False,
        meta: dict[str, str] | None = None,
    ) -> NodeUpdateResponseEvals:
        """Start draining (``spec``) or stop (``None``; ``mark_eligible`` makes it eligible)."""
        body = {"DrainSpec": spec, "MarkEligible": mark_eligible, "Meta": meta or {}}
        return self._c.write("PUT", f"/v1/node/{node_id}/drain", NodeUpdateResponseEvals, body=body)

    def toggle_eligibility(self, node_id: str, eligible: bool) -> NodeUpdateResponseEvals:
        body = {"Eligibility": "eligible" if eligible else "ineligible"}
        return self._c.write(
            "PUT", f"/v1/node/{node_id}/eligibility", NodeUpdateResponseEvals, body=body
        )
