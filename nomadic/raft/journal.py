"""Checking pysyncobj's journal file before pysyncobj reads it.

pysyncobj trusts its journal: a truncated file makes it raise somewhere in its constructor,
and a corrupt record would be applied (or skipped by the FSM) long after the server said it
started. This walks the file in pysyncobj's format (``FileJournal``) and decodes every entry
of ours, so a damaged journal stops the server at startup with the file, record and reason:

    header: "PYSYNCOBJ" (24 b) + version (8 b) + format (u32) + end offset (u32)
    record: size (u32) + raft index (u64) + term (u64) + command + size (u32)
    command: type byte (0 regular, 1 no-op, 2 membership, 3 version) + pickle
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import msgspec

from nomadic.errors import ConfigError
from nomadic.state.entries import decode_entry

__all__ = ["check_journal"]

_APP_NAME = b"PYSYNCOBJ"
_FIRST_RECORD = 24 + 8 + 4 + 4
_END_OFFSET_AT = 24 + 8 + 4
_REGULAR, _NO_OP, _MEMBERSHIP, _VERSION = 0, 1, 2, 3


def check_journal(path: Path) -> int:
    """Raise ConfigError naming ``path`` if the journal is damaged; returns its record count."""
    if not path.exists():
        return 0
    data = path.read_bytes()

    def fail(why: str) -> ConfigError:
        return ConfigError(
            f"{path}: the Raft journal is corrupt or truncated ({why}); refusing to start "
            "rather than drop committed state. Restore the data dir from a backup, or remove "
            "it to rejoin the cluster as an empty server"
        )

    if len(data) < _FIRST_RECORD or not data.startswith(_APP_NAME):
        raise fail("no journal header")
    (end,) = struct.unpack_from("<I", data, _END_OFFSET_AT)
    if end > len(data):
        raise fail(f"the header says records end at byte {end}, the file has {len(data)}")
    offset, count, prev_index = _FIRST_RECORD, 0, 0
    while offset < end:
        if offset + 4 > end:
            raise fail(f"record {count + 1} at byte {offset} is cut short")
        (size,) = struct.unpack_from("<I", data, offset)
        if size < 17 or offset + 8 + size > end:
            raise fail(f"record {count + 1} at byte {offset} has an impossible size {size}")
        (trailer,) = struct.unpack_from("<I", data, offset + 4 + size)
        if trailer != size:
            raise fail(f"record {count + 1} at byte {offset}: its two length fields differ")
        index, _term = struct.unpack_from("<QQ", data, offset + 4)
        if prev_index and index != prev_index + 1:
            raise fail(f"record {count + 1}: raft index {index} follows {prev_index}")
        command = data[offset + 20 : offset + 4 + size]
        try:
            _check_command(command)
        except Exception as exc:  # any decode failure of a damaged record
            raise fail(f"raft entry {index}: {exc}") from None
        prev_index, count, offset = index, count + 1, offset + 8 + size
    return count


def _check_command(command: bytes) -> None:
    kind = command[0]
    if kind == _NO_OP:
        return
    if kind not in (_REGULAR, _MEMBERSHIP, _VERSION):
        raise ValueError(f"unknown command type {kind}")
    # the journal is this server's own file, written by pysyncobj with pickle
    body = pickle.loads(command[1:])
    if kind != _REGULAR:
        return
    args: Any = body[1] if isinstance(body, tuple) and len(body) > 1 else ()
    if len(args) != 1 or not isinstance(args[0], bytes):
        raise ValueError("not a nomadic entry (expected apply(entry: bytes))")
    try:
        decode_entry(args[0])
    except msgspec.DecodeError as exc:
        raise ValueError(f"undecodable entry: {exc}") from None
