"""The client role: fingerprint, register, heartbeat, run allocations, report their status.

Public surface: :class:`Client` (implements ``nomadic.http.agent.ClientAPI``) and
:class:`ClientConfig`; the seam to the servers is :class:`nomadic.client.rpc.ServerRPC`.
"""

from __future__ import annotations

from .client import Client
from .config import ClientConfig

__all__ = ["Client", "ClientConfig"]
