"""gRPC between agents (grpc.aio): clients to servers, and followers to the leader.

Messages are our msgpack-encoded structs (``nomadic.structs.codec``), carried by generic
handlers, so there is no protobuf schema to keep in step with ``nomadic.structs``.
"""

from __future__ import annotations

from .client import GrpcServerRPC, RPCPool
from .server import RPCServer

__all__ = ["GrpcServerRPC", "RPCPool", "RPCServer"]
