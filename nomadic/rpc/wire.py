"""The wire format: method names, request/reply bodies, and errors crossing the wire.

Every call is unary: the request is msgpack of the method's request struct; the reply is a
:class:`Reply` envelope holding either the msgpack body or an error (its kind names a class
in ``nomadic.errors``), so a ``NotFoundError`` raised on a server is a ``NotFoundError`` in
the caller. Method paths read ``/Node/Register``, as Nomad names its RPCs ``Node.Register``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from nomadic import errors
from nomadic.structs import Allocation, AllocUpdate, Evaluation
from nomadic.structs.codec import Base

__all__ = [
    "FORWARDED_HEADER",
    "GRPC_OPTIONS",
    "REGION_FORWARDED_HEADER",
    "REGION_HEADER",
    "AllocStopRequest",
    "AllocsReply",
    "Empty",
    "EvalAckRequest",
    "EvalDequeueReply",
    "EvalDequeueRequest",
    "EvalUpdateWire",
    "GetClientAllocsRequest",
    "GossipEntry",
    "GossipMessage",
    "IndexReply",
    "JobDeregisterRequest",
    "MemberInfo",
    "RemovePeerRequest",
    "Reply",
    "SnapshotRestoreRequest",
    "UpdateAllocRequest",
    "UpdateStatusRequest",
    "decode_error",
    "encode_error",
    "path",
]

# gRPC's 4 MiB default is too small for snapshots and big allocation lists.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
GRPC_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # a server that comes back (restart, healed partition) is dialled again within seconds,
    # not after gRPC's default backoff of up to two minutes
    ("grpc.max_reconnect_backoff_ms", 5000),
)

# Set on a request a follower forwards to the leader; a server never forwards it again.
FORWARDED_HEADER = "nomadic-forwarded"
# The region a request is for (absent: the receiving server's own); a server of another
# region forwards it there once, marking it REGION_FORWARDED_HEADER.
REGION_HEADER = "nomadic-region"
REGION_FORWARDED_HEADER = "nomadic-region-forwarded"


class Empty(Base):
    pass


class UpdateStatusRequest(Base):
    node_id: str
    status: str


class GetClientAllocsRequest(Base):
    node_id: str
    min_index: int = 0
    timeout: float = 300.0


class AllocsReply(Base):
    allocs: list[Allocation] = msgspec.field(default_factory=list)
    index: int = 0


class UpdateAllocRequest(Base):
    alloc: list[AllocUpdate] = msgspec.field(default_factory=list)


class JobDeregisterRequest(Base):
    namespace: str
    job_id: str
    purge: bool = False


class AllocStopRequest(Base):
    alloc_id: str


class SnapshotRestoreRequest(Base):
    data: bytes


class EvalDequeueRequest(Base):
    schedulers: list[str]
    timeout: float = 0.5


class EvalDequeueReply(Base):
    eval: Evaluation | None = None
    token: str = ""
    wait_index: int = 0


class EvalAckRequest(Base):
    eval_id: str
    token: str


class EvalUpdateWire(Base):
    """Eval.Update / Eval.Create: evals written by the worker holding ``eval_id``'s token."""

    eval_id: str
    token: str
    evals: list[Evaluation] = msgspec.field(default_factory=list)


class RemovePeerRequest(Base):
    address: str


class IndexReply(Base):
    index: int = 0


class MemberInfo(Base):
    """Status.Member: who a server is; joins map Raft addresses to RPC addresses with it.

    It is also a server's record in the WAN gossip (``nomadic.rpc.membership``): ``status``
    (alive or left) and ``incarnation`` are owned by the server itself, which bumps the
    incarnation on every gossip round, so a record that stops advancing marks a failed server.
    """

    name: str = ""
    region: str = ""
    datacenter: str = ""
    rpc_addr: str = ""
    raft_addr: str = ""
    leader: bool = False
    http_addr: str = ""
    status: str = "alive"
    incarnation: int = 0


class GossipEntry(Base):
    """One member as the sender knows it; ``age``: seconds since its record last advanced."""

    member: MemberInfo
    age: float = 0.0


class GossipMessage(Base):
    """Status.Gossip, both ways: the sender's member table (push), the receiver's (pull)."""

    entries: list[GossipEntry] = msgspec.field(default_factory=list)


class Reply(msgspec.Struct, omit_defaults=True):
    body: bytes = b""
    error_kind: str = ""
    error: str = ""


def path(method: str) -> str:
    """``Node.Register`` -> ``/Node/Register``."""
    service, _, name = method.partition(".")
    return f"/{service}/{name}"


_KINDS: dict[str, type[errors.NomadicError]] = {
    cls.__name__: cls
    for cls in (
        errors.ValidationError,
        errors.NotFoundError,
        errors.NoLeaderError,
        errors.RegionUnavailableError,
        errors.RaftError,
        errors.ConfigError,
        errors.UserError,
        errors.NomadicError,
    )
}


def encode_error(exc: errors.NomadicError) -> bytes:
    kind = next((n for n, c in _KINDS.items() if type(exc) is c), "NomadicError")
    if isinstance(exc, errors.UserError) and kind == "NomadicError":
        kind = "UserError"
    return msgspec.msgpack.encode(Reply(error_kind=kind, error=str(exc)))


def decode_error(reply: Reply) -> errors.NomadicError:
    cls: Any = _KINDS.get(reply.error_kind, errors.NomadicError)
    exc: errors.NomadicError = cls(reply.error) if reply.error else cls()
    return exc
