"""``client.namespaces``: list, read, apply and delete namespaces."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING
from urllib.parse import quote

from nomadic.structs import Namespace
from nomadic.structs.globalobjs import GlobalWriteResponse

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["Namespaces"]


class Namespaces:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "") -> builtins.list[Namespace]:
        return self._c.query("/v1/namespaces", list[Namespace], params={"prefix": prefix})

    def info(self, name: str) -> Namespace:
        return self._c.query(f"/v1/namespace/{quote(name, safe='')}", Namespace)

    def register(self, ns: Namespace) -> GlobalWriteResponse:
        return self._c.write(
            "PUT", f"/v1/namespace/{quote(ns.name, safe='')}", GlobalWriteResponse, body=ns
        )

    def delete(self, name: str) -> GlobalWriteResponse:
        return self._c.write("DELETE", f"/v1/namespace/{quote(name, safe='')}", GlobalWriteResponse)
