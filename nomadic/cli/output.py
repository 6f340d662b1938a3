"""The one output object of the CLI: Nomad's key/value blocks and tables, JSON, and errors.

Tables and key/value blocks are laid out like Nomad's (``columnize``: columns separated by two
spaces, the last column unpadded; key/value rows glued with `` = ``). Errors are raised as
:class:`CommandError`, a click exception that prints its message verbatim (Nomad's wording, no
``Error:`` prefix added) and exits with its code: 1 for errors, 2 for placement problems.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

import click

from nomadic.structs import to_builtins

__all__ = [
    "CommandError",
    "Output",
    "format_time",
    "format_timestamp",
    "pretty_time_diff",
    "short_id",
]

SHORT_ID_LENGTH = 8


class CommandError(click.ClickException):
    """A failed command: ``message`` goes to stderr as it is, then exit ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, file=file or sys.stderr)


def short_id(full: str, verbose: bool = False) -> str:
    return full if verbose else full[:SHORT_ID_LENGTH]


def format_time(nanos: int) -> str:
    """RFC 3339 in local time, as Nomad's ``formatTime``; empty for zero."""
    if not nanos:
        return ""
    return (
        datetime.fromtimestamp(nanos / 1e9)
        .astimezone()
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def format_timestamp(text: str) -> str:
    """An RFC 3339 string (as in TaskState.StartedAt) shown like :func:`format_time`."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return format_time(int(parsed.timestamp() * 1e9))


def pretty_time_diff(nanos: int, now: float | None = None) -> str:
    """``3m12s ago`` / ``1h0m from now``: the two largest units, as Nomad's prettyTimeDiff."""
    if not nanos:
        return ""
    now = time.time() if now is None else now
    diff = round(now) - round(nanos / 1e9)
    suffix = " ago" if diff >= 0 else " from now"
    secs = abs(diff)
    parts = [(secs // 86400, "d"), (secs % 86400 // 3600, "h"), (secs % 3600 // 60, "m")]
    parts.append((secs % 60, "s"))
    first = next((i for i, (n, _) in enumerate(parts) if n), len(parts) - 1)
    shown = parts[first : first + 2]
    return "".join(f"{n}{unit}" for n, unit in shown) + suffix


def columnize(rows: Sequence[Sequence[str]], glue: str = "  ") -> list[str]:
    widths = [0] * max((len(r) for r in rows), default=0)
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + list(row[-1:])
        lines.append(glue.join(cells).rstrip())
    return lines


class Output:
    """Where every command writes: stdout for results, stderr for errors."""

    def line(self, text: str = "") -> None:
        click.echo(text)

    def kv(self, pairs: Sequence[tuple[str, object]]) -> None:
        """Nomad's ``formatKV``: aligned ``Key = Value`` lines."""
        for text in columnize([(k, str(v)) for k, v in pairs], glue=" = "):
            click.echo(text)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Nomad's ``formatList``; prints only the header when there are no rows."""
        cells = [list(header)] + [[str(c) for c in row] for row in rows]
        for text in columnize(cells):
            click.echo(text)

    def json(self, obj: Any) -> None:
        click.echo(json.dumps(to_builtins(obj), indent=4))

    def error(self, message: str, exit_code: int = 1) -> CommandError:
        """The exception to raise for a failed command (``raise out.error(...)``)."""
        return CommandError(message, exit_code)


out = Output()
