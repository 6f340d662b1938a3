"""Time functions of the job file language: ``formatdate`` and ``timeadd`` (RFC 3339 in/out).

``formatdate`` uses Terraform's format language (``YYYY-MM-DD'T'hh:mm:ssZ``); ``timeadd``
takes a Go duration such as ``"1h30m"`` or ``"-10s"``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .encoding import FunctionError, text

__all__ = ["TIME_FUNCTIONS"]

_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _parse(timestamp: Any) -> dt.datetime:
    value = text(timestamp)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or "T" not in value.upper() or parsed.tzinfo is None:
        raise FunctionError(f"{value!r} is not an RFC 3339 timestamp, like 2024-01-02T15:04:05Z")
    return parsed


def _zone(when: dt.datetime, width: int) -> str:
    offset = when.utcoffset() or dt.timedelta(0)
    if width == 1 and not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, mins = divmod(minutes, 60)
    if width >= 5:
        return f"{sign}{hours:02d}:{mins:02d}"
    if width == 3:
        return when.tzname() or "UTC"
    return f"{sign}{hours:02d}{mins:02d}"


def _field(when: dt.datetime, token: str) -> str:
    letter, width = token[0], len(token)
    table: dict[str, Callable[[], str]] = {
        "Y": lambda: f"{when.year:04d}" if width != 2 else f"{when.year % 100:02d}",
        "M": lambda: {1: str(when.month), 2: f"{when.month:02d}"}.get(
            width, when.strftime("%b" if width == 3 else "%B")
        ),
        "D": lambda: str(when.day) if width == 1 else f"{when.day:02d}",
        "E": lambda: when.strftime("%a" if width == 3 else "%A"),
        "h": lambda: str(when.hour) if width == 1 else f"{when.hour:02d}",
        "H": lambda: (
            str((when.hour - 1) % 12 + 1) if width == 1 else f"{(when.hour - 1) % 12 + 1:02d}"
        ),
        "m": lambda: str(when.minute) if width == 1 else f"{when.minute:02d}",
        "s": lambda: str(when.second) if width == 1 else f"{when.second:02d}",
        "A": lambda: "AM" if when.hour < 12 else "PM",
        "a": lambda: "am" if when.hour < 12 else "pm",
        "Z": lambda: _zone(when, width),
    }
    if letter not in table:
        raise FunctionError(f"invalid date format verb {token!r}")
    return table[letter]()


def _formatdate(spec: Any, timestamp: Any) -> str:
    when, fmt = _parse(timestamp), text(spec)
    out, pos = [], 0
    for match in _TOKEN.finditer(fmt):
        out.append(fmt[pos : match.start()])
        token = match.group(0)
        out.append(token[1:-1].replace("''", "'") if token[0] == "'" else _field(when, token))
        pos = match.end()
    out.append(fmt[pos:])
    return "".join(out)


def _timeadd(timestamp: Any, duration: Any) -> str:
    when, spec = _parse(timestamp), text(duration).strip()
    sign = -1 if spec.startswith("-") else 1
    body = spec.lstrip("+-")
    parts = _DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise FunctionError(f"invalid duration {spec!r}; use e.g. 30s, 5m, 1h30m")
    seconds = sign * sum(float(n) * _UNITS[u] for n, u in parts)
    result = when + dt.timedelta(seconds=seconds)
    return result.isoformat().replace("+00:00", "Z")


TIME_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "formatdate": _formatdate,
    "timeadd": _timeadd,
}
