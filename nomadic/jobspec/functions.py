"""Functions callable from job files: the commonly used part of jobspec2's library.

Names and behaviour follow HCL's cty stdlib as Nomad exposes it (reference/nomad.md §2.1).
Encoding, network, time and filesystem functions live in their own modules and are merged
into :data:`FUNCTIONS` here. Functions that take unevaluated arguments (``try``, ``can``,
``convert``) are in the evaluator.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from .encoding import ENCODING_FUNCTIONS, FunctionError
from .filesystem import FILESYSTEM_FUNCTIONS
from .network import NETWORK_FUNCTIONS
from .timestamps import TIME_FUNCTIONS
from .values import ConversionError, to_float, to_int, to_string, to_template_string

__all__ = ["FUNCTIONS", "FunctionError"]


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


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _format(fmt: Any, *args: Any) -> str:
    """Go's fmt verbs as cty's ``format`` has them: %v %s %q %d %f %e %g %t %x %X %o %b %%."""
    spec, values, out, pos = _str(fmt), list(args), [], 0
    for match in _VERB.finditer(spec):
        out.append(spec[pos : match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if not values:
            raise FunctionError(f"not enough arguments for {match.group(0)!r}")
        out.append(_verb(verb, values.pop(0), flags, width, precision))
    out.append(spec[pos:])
    if values:
        raise FunctionError(f"too many arguments; the format uses {len(args) - len(values)}")
    return "".join(out)


def _verb(verb: str, value: Any, flags: str, width: str | None, precision: str | None) -> str:
    conversions: dict[str, Callable[[], str]] = {
        "v": lambda: (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, list | dict)
            else to_template_string(value)
        ),
        "s": lambda: _str(value),
        "q": lambda: json.dumps(_str(value)),
        "t": lambda: to_template_string(bool(value)) if isinstance(value, bool) else _bad(),
        "d": lambda: format(_integer(value), "d"),
        "x": lambda: (
            format(_integer(value), "x") if not isinstance(value, str) else value.encode().hex()
        ),
        "X": lambda: format(_integer(value), "X"),
        "o": lambda: format(_integer(value), "o"),
        "b": lambda: format(_integer(value), "b"),
        "f": lambda: format(float(_num(value)), f".{precision or 6}f"),
        "e": lambda: format(float(_num(value)), f".{precision or 6}e"),
        "g": lambda: format(float(_num(value)), f".{precision}g" if precision else "g"),
    }
    if verb not in conversions:
        raise FunctionError(f"unsupported format verb %{verb}")
    result = conversions[verb]()
    if verb in "sqv" and precision is not None:
        result = result[: int(precision)]
    if "+" in flags and verb in "dfeg" and not result.startswith("-"):
        result = "+" + result
    if width:
        pad = "0" if "0" in flags and "-" not in flags and verb in "dfegxXob" else " "
        result = result.ljust(int(width)) if "-" in flags else result.rjust(int(width), pad)
    return result


def _bad() -> str:
    raise FunctionError("%t needs a bool")


def _integer(value: Any) -> int:
    number = _num(value)
    if not isinstance(number, int):
        raise FunctionError(f"%d needs a whole number, got {number}")
    return number


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


def _length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise FunctionError("expected a string, list or map")


def _distinct(values: list[Any]) -> list[Any]:
    return [json.loads(x) for x in dict.fromkeys(json.dumps(v, sort_keys=True) for v in values)]


def _set_op(kind: str) -> Callable[..., list[Any]]:
    def call(first: Any, *rest: Any) -> list[Any]:
        result = _distinct(_list(first))
        for other in map(_list, rest):
            keys = {json.dumps(v, sort_keys=True) for v in other}
            if kind == "union":
                result = _distinct(result + other)
            elif kind == "intersection":
                result = [v for v in result if json.dumps(v, sort_keys=True) in keys]
            else:
                result = [v for v in result if json.dumps(v, sort_keys=True) not in keys]
        return result

    return call


def _chunklist(values: Any, size: Any) -> list[list[Any]]:
    items, n = _list(values), to_int(size)
    if n < 0:
        raise FunctionError("the chunk size must not be negative")
    if n == 0:
        return [items]
    return [items[i : i + n] for i in range(0, len(items), n)]


def _coalescelist(*lists: Any) -> list[Any]:
    for value in lists:
        if _list(value):
            return list(value)
    raise FunctionError("no non-empty list argument")


def _regex(pattern: Any, subject: Any) -> Any:
    match = _compile(pattern).search(_str(subject))
    if match is None:
        raise FunctionError("the pattern did not match")
    return _captures(match)


def _captures(match: re.Match[str]) -> Any:
    if match.re.groupindex:
        return match.groupdict()
    return list(match.groups()) if match.re.groups else match.group(0)


def _compile(pattern: Any) -> re.Pattern[str]:
    # RE2's named groups are (?P<name>...) too; its (?<name>...) spelling is Python's as well.
    try:
        return re.compile(_str(pattern))
    except re.error as exc:
        raise FunctionError(f"invalid regular expression: {exc}") from None


def _one(values: Any) -> Any:
    items = _list(values)
    if len(items) > 1:
        raise FunctionError(f"must be a list of zero or one elements, got {len(items)}")
    return items[0] if items else None


def _jsondecode(source: Any) -> Any:
    try:
        return json.loads(_str(source))
    except json.JSONDecodeError as exc:
        raise FunctionError(f"invalid JSON: {exc.msg}") from None


def _log(value: Any, base: Any) -> float | int:
    return _num(math.log(_num(value), _num(base)))


EXTRA_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "alltrue": lambda xs: all(x is True or x == "true" for x in _list(xs)),
    "anytrue": lambda xs: any(x is True or x == "true" for x in _list(xs)),
    "chunklist": _chunklist,
    "coalescelist": _coalescelist,
    "endswith": lambda s, suffix: _str(s).endswith(_str(suffix)),
    "log": _log,
    "one": _one,
    "regex": _regex,
    "regexall": lambda p, s: [_captures(m) for m in _compile(p).finditer(_str(s))],
    "regex_replace": lambda s, p, r: _compile(p).sub(
        re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", _str(r)), _str(s)
    ),
    "setintersection": _set_op("intersection"),
    "setproduct": lambda *ls: [list(t) for t in itertools.product(*map(_list, ls))],
    "setsubtract": _set_op("subtract"),
    "setunion": _set_op("union"),
    "startswith": lambda s, prefix: _str(s).startswith(_str(prefix)),
    "strcontains": lambda s, sub: _str(sub) in _str(s),
    "sum": lambda xs: _num(sum(_num(x) for x in _list(xs))),
    "trimleft": lambda s, chars: _str(s).lstrip(_str(chars)),
    "trimright": lambda s, chars: _str(s).rstrip(_str(chars)),
}


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
    "distinct": lambda lst: _distinct(_list(lst)),
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
    "toset": lambda lst: _distinct(_list(lst)),
    "tostring": lambda v: v if v is None else _str(v),
    "urlencode": lambda s: urllib.parse.quote(_str(s), safe=""),
    "jsondecode": _jsondecode,
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    **EXTRA_FUNCTIONS,
    **ENCODING_FUNCTIONS,
    **NETWORK_FUNCTIONS,
    **TIME_FUNCTIONS,
    **FILESYSTEM_FUNCTIONS,
}
