"""Functions callable from job files: the commonly used part of jobspec2's library.

Names and behaviour follow HCL's cty stdlib as Nomad exposes it (reference/nomad.md §2.1).
Filesystem functions exist only to say they are disabled, as Nomad does by default.
Functions that need lazy evaluation (``try``, ``can``) are not here yet.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from .values import ConversionError, to_float, to_int, to_string, to_template_string

__all__ = ["FUNCTIONS", "FunctionError"]


class FunctionError(ValueError):
    """A function called with arguments it cannot use; the message says why."""


def _str(value: Any) -> str:
    try:
        return to_string(value)
    except ConversionError as exc:
        raise FunctionError(str(exc)) from None


def _num(value: Any) -> float | int:
    try:
        number = to_float(value)
    except ConversionError as exc:
        raise FunctionError(str(exc)) from None
    return int(number) if number.is_integer() else number


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise FunctionError(f"expected a list, got {type(value).__name__}")
    return value


def _map(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FunctionError(f"expected an object or map, got {type(value).__name__}")
    return value


def _format(fmt: Any, *args: Any) -> str:
    # Go verbs map onto Python's %-formatting for the common cases (%s %d %v %q %f).
    text = _str(fmt).replace("%v", "%s").replace("%q", '"%s"')
    values = tuple(to_template_string(a) if isinstance(a, bool) else a for a in args)
    try:
        return text % values
    except (TypeError, ValueError) as exc:
        raise FunctionError(f"format {text!r}: {exc}") from None


def _join(sep: Any, *lists: Any) -> str:
    return _str(sep).join(_str(item) for lst in lists for item in _list(lst))


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    mapping = _map(mapping)
    if _str(key) in mapping:
        return mapping[_str(key)]
    if default:
        return default[0]
    raise FunctionError(f"the map has no key {key!r} and no default was given")


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mapping in maps:
        if mapping is not None:
            result.update(_map(mapping))
    return result


def _flatten(value: Any) -> list[Any]:
    result: list[Any] = []
    for item in _list(value):
        result.extend(_flatten(item) if isinstance(item, list) else [item])
    return result


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise FunctionError("no non-null, non-empty argument")


def _range(*args: Any) -> list[int | float]:
    nums = [_num(a) for a in args]
    if len(nums) == 1:
        nums = [0, nums[0], 1]
    elif len(nums) == 2:
        nums.append(1 if nums[1] >= nums[0] else -1)
    start, stop, step = nums
    if step == 0 or abs((stop - start) / step) > 1024:
        raise FunctionError("the range must have a non-zero step and at most 1024 elements")
    result: list[int | float] = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        result.append(value)
        value += step
    return result


def _disabled(name: str) -> Callable[..., Any]:
    def call(*_args: Any) -> Any:
        raise FunctionError("filesystem function disabled")

    call.__name__ = name
    return call


def _length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise FunctionError("expected a string, list or map")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # numbers
    "abs": lambda x: abs(_num(x)),
    "ceil": lambda x: math.ceil(_num(x)),
    "floor": lambda x: math.floor(_num(x)),
    "max": lambda *xs: max(_num(x) for x in xs),
    "min": lambda *xs: min(_num(x) for x in xs),
    "parseint": lambda s, base: int(_str(s), to_int(base)),
    "pow": lambda a, b: _num(float(_num(a)) ** float(_num(b))),
    "signum": lambda x: (_num(x) > 0) - (_num(x) < 0),
    # strings
    "chomp": lambda s: _str(s).rstrip("\r\n"),
    "format": _format,
    "formatlist": lambda fmt, *lists: [
        _format(fmt, *row) for row in zip(*map(_list, lists), strict=True)
    ],
    "indent": lambda n, s: _str(s).replace("\n", "\n" + " " * to_int(n)),
    "join": _join,
    "lower": lambda s: _str(s).lower(),
    "replace": lambda s, old, new: _str(s).replace(_str(old), _str(new)),
    "split": lambda sep, s: _str(s).split(_str(sep)),
    "strlen": lambda s: len(_str(s)),
    "strrev": lambda s: _str(s)[::-1],
    "substr": lambda s, off, n: _str(s)[to_int(off) :][: None if to_int(n) < 0 else to_int(n)],
    "title": lambda s: _str(s).title(),
    "trim": lambda s, chars: _str(s).strip(_str(chars)),
    "trimprefix": lambda s, p: _str(s).removeprefix(_str(p)),
    "trimsuffix": lambda s, p: _str(s).removesuffix(_str(p)),
    "trimspace": lambda s: _str(s).strip(),
    "upper": lambda s: _str(s).upper(),
    # collections
    "coalesce": _coalesce,
    "compact": lambda lst: [x for x in _list(lst) if x not in (None, "")],
    "concat": lambda *lists: [x for lst in lists for x in _list(lst)],
    "contains": lambda lst, v: v in _list(lst),
    "distinct": lambda lst: [json.loads(x) for x in dict.fromkeys(map(json.dumps, _list(lst)))],
    "element": lambda lst, i: _list(lst)[to_int(i) % len(_list(lst))],
    "flatten": _flatten,
    "index": lambda lst, v: _list(lst).index(v),
    "keys": lambda m: sorted(_map(m)),
    "length": _length,
    "lookup": _lookup,
    "merge": _merge,
    "range": _range,
    "reverse": lambda lst: list(reversed(_list(lst))),
    "slice": lambda lst, a, b: _list(lst)[to_int(a) : to_int(b)],
    "sort": lambda lst: sorted(_str(x) for x in _list(lst)),
    "values": lambda m: [_map(m)[k] for k in sorted(_map(m))],
    "zipmap": lambda ks, vs: dict(zip((_str(k) for k in _list(ks)), _list(vs), strict=True)),
    # type conversion
    "tobool": lambda v: v if v is None else {"true": True, "false": False}[_str(v)],
    "tolist": _list,
    "tomap": _map,
    "tonumber": lambda v: v if v is None else _num(v),
    "toset": lambda lst: [json.loads(x) for x in dict.fromkeys(map(json.dumps, _list(lst)))],
    "tostring": lambda v: v if v is None else _str(v),
    # encoding and hashing
    "base64decode": lambda s: base64.b64decode(_str(s), validate=True).decode(),
    "base64encode": lambda s: base64.b64encode(_str(s).encode()).decode(),
    "jsondecode": lambda s: json.loads(_str(s)),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "sha256": lambda s: hashlib.sha256(_str(s).encode()).hexdigest(),
    "sha512": lambda s: hashlib.sha512(_str(s).encode()).hexdigest(),
    "urlencode": lambda s: urllib.parse.quote(_str(s), safe=""),
    "uuidv4": lambda: str(uuid.uuid4()),
    "uuidv5": lambda ns, name: str(uuid.uuid5(_uuid_namespace(ns), _str(name))),
}

for _name in ("abspath", "basename", "dirname", "file", "filebase64", "fileexists", "fileset"):
    FUNCTIONS[_name] = _disabled(_name)
FUNCTIONS["pathexpand"] = _disabled("pathexpand")


def _uuid_namespace(value: Any) -> uuid.UUID:
    named = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID}
    text = _str(value)
    return named.get(text) or uuid.UUID(text)
