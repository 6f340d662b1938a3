"""Encoding and hashing functions of the job file language: YAML, CSV, digests, bcrypt, UUIDs.

Each behaves as its namesake in HCL's cty stdlib as Nomad exposes it: ``yamlencode`` writes
block-style YAML, ``csvdecode`` returns a list of objects keyed by the header row, digests are
lower-case hex of the UTF-8 bytes, ``base64sha256`` is base64 of the raw digest.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import uuid
from collections.abc import Callable
from typing import Any

from .values import ConversionError, to_int, to_string

__all__ = ["ENCODING_FUNCTIONS", "FunctionError"]


class FunctionError(ValueError):
    """A function called with arguments it cannot use; the message says why."""


def text(value: Any) -> str:
    """The argument as a string (numbers and bools convert; lists and maps do not)."""
    try:
        return to_string(value)
    except ConversionError as exc:
        raise FunctionError(str(exc)) from None


def _yamldecode(source: Any) -> Any:
    import yaml

    try:
        return yaml.safe_load(text(source))
    except yaml.YAMLError as exc:
        raise FunctionError(f"invalid YAML: {str(exc).splitlines()[0]}") from None


def _yamlencode(value: Any) -> str:
    import yaml

    return str(yaml.safe_dump(value, default_flow_style=False, sort_keys=True))


def _csvdecode(source: Any) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text(source))))
    if not rows:
        raise FunctionError("missing header line")
    header, records = rows[0], rows[1:]
    for number, row in enumerate(records, start=2):
        if len(row) != len(header):
            raise FunctionError(f"line {number}: expected {len(header)} fields, found {len(row)}")
    return [dict(zip(header, row, strict=True)) for row in records]


def _bcrypt(password: Any, *cost: Any) -> str:
    import bcrypt

    rounds = to_int(cost[0]) if cost else 10
    if not 4 <= rounds <= 31:
        raise FunctionError("the cost must be between 4 and 31")
    hashed = bcrypt.hashpw(text(password).encode(), bcrypt.gensalt(rounds=rounds, prefix=b"2a"))
    return hashed.decode()


def _digest(name: str) -> Callable[[Any], str]:
    return lambda value: hashlib.new(name, text(value).encode()).hexdigest()


def _b64digest(name: str) -> Callable[[Any], str]:
    return lambda value: base64.b64encode(hashlib.new(name, text(value).encode()).digest()).decode()


def _uuid_namespace(value: Any) -> uuid.UUID:
    named = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID}
    name = text(value)
    if name in named:
        return named[name]
    if name == "x500":
        return uuid.NAMESPACE_X500
    try:
        return uuid.UUID(name)
    except ValueError:
        raise FunctionError(f"namespace {name!r} must be dns, url, oid, x500 or a UUID") from None


def _base64decode(value: Any) -> str:
    try:
        return base64.b64decode(text(value), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise FunctionError("the string is not valid base64 of UTF-8 text") from None


ENCODING_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "base64decode": _base64decode,
    "base64encode": lambda s: base64.b64encode(text(s).encode()).decode(),
    "base64sha256": _b64digest("sha256"),
    "base64sha512": _b64digest("sha512"),
    "bcrypt": _bcrypt,
    "csvdecode": _csvdecode,
    "md5": _digest("md5"),
    "sha1": _digest("sha1"),
    "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "uuidv4": lambda: str(uuid.uuid4()),
    "uuidv5": lambda ns, name: str(uuid.uuid5(_uuid_namespace(ns), text(name))),
    "yamldecode": _yamldecode,
    "yamlencode": _yamlencode,
}
