"""The server role (see :mod:`nomadic.server.server` for how the parts fit together)."""

from __future__ import annotations

from .local_rpc import LocalServerRPC
from .server import Server, ServerConfig

__all__ = ["LocalServerRPC", "Server", "ServerConfig"]
