"""Cron schedules of periodic jobs: validation and the next launch time.

Parsing is croniter's. Nomad uses hashicorp/cronexpr; the differences a user may notice:
six fields are read as *seconds first* (``*/5 * * * * *`` = every five seconds, Quartz/Spring
style), seven fields as seconds first and a year last (cronexpr's full form), five fields as
the usual minute-first crontab, and ``@daily``-style macros work. With several ``crons`` the
next launch is the earliest next time across all of them (Nomad's rule). Times are computed in
the job's ``time_zone`` (IANA name, default UTC).
"""

from __future__ import annotations

import datetime
import zoneinfo

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from .consts import SECOND
from .job import PeriodicConfig

__all__ = ["next_launch", "periodic_errors", "specs_of"]


def specs_of(config: PeriodicConfig) -> list[str]:
    """Every cron string of the block (``cron`` and ``crons`` together)."""
    return [s for s in [config.spec, *config.specs] if s]


def _zone(config: PeriodicConfig) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(config.time_zone or "UTC")


def _iter(spec: str, start: datetime.datetime) -> croniter:
    seconds_first = len(spec.split()) >= 6
    return croniter(spec, start, second_at_beginning=seconds_first)


def periodic_errors(config: PeriodicConfig, where: str) -> list[str]:
    """Problems with a periodic block, each saying where and how to fix it."""
    errors: list[str] = []
    if config.spec_type not in ("cron", ""):
        errors.append(f'{where}: unknown periodic spec type {config.spec_type!r}; use "cron"')
    try:
        _zone(config)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.append(
            f"{where}: unknown time_zone {config.time_zone!r}; use an IANA name such as "
            '"UTC" or "Europe/Berlin"'
        )
        return errors
    specs = specs_of(config)
    if not specs:
        errors.append(f'{where}: periodic needs a schedule: cron = "..." or crons = [...]')
    for spec in specs:
        fields = len(spec.split())
        if not spec.startswith("@") and fields not in (5, 6, 7):
            errors.append(
                f"{where}: cron {spec!r} has {fields} fields; use 5 (minute hour day month "
                "weekday), 6 (seconds first) or 7 (seconds first, year last)"
            )
            continue
        try:
            _iter(spec, datetime.datetime.now(datetime.UTC))
        except (CroniterError, ValueError, KeyError) as exc:
            errors.append(f"{where}: invalid cron {spec!r}: {exc}")
    return errors


def next_launch(config: PeriodicConfig, after_ns: int) -> int:
    """The earliest launch strictly after ``after_ns`` (unix ns), or 0 when there is none."""
    zone = _zone(config)
    start = datetime.datetime.fromtimestamp(after_ns / SECOND, tz=zone)
    best = 0
    for spec in specs_of(config):
        try:
            nxt = _iter(spec, start).get_next(float)
        except (CroniterError, ValueError, KeyError, StopIteration):
            continue
        ns = round(nxt * SECOND)
        if ns <= after_ns:  # sub-second start: croniter may return the same second
            continue
        if best == 0 or ns < best:
            best = ns
    return best
