"""Go's ``time.Duration.String()`` for nanoseconds, because Nomad's messages print durations
that way ("1m0s", "24h0m0s", "15.2s") and users grep for them."""

from __future__ import annotations

__all__ = ["go_duration"]


def go_duration(ns: int) -> str:
    """Format like Go: ``0s``, ``250ms``, ``1.5s``, ``1m0s``, ``24h0m0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    seconds = _trim(rest / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
