"""Job file diagnostics: ``file:line:col: message`` plus the offending source line below it.

Every user-facing error of the job spec parser is built here, so they all read alike::

    web.hcl:12:5: unsupported argument "cout" in group "web"; did you mean "count"?
       12 |     cout = 3
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from nomadic.errors import JobSpecError

__all__ = ["Source", "Span", "did_you_mean", "error_at"]


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one job file and the name to show for it.

    ``shown`` is the text to quote in errors when it differs from ``text``: an HCL-JSON
    file's expressions are parsed from generated HCL placed at the JSON value's line, and
    their errors quote the JSON file's line.
    """

    text: str
    path: str
    shown: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Where something is: the file it came from and its 1-based line and column."""

    source: Source
    line: int
    column: int

    def error(self, message: str) -> JobSpecError:
        text = self.source.text if self.source.shown is None else self.source.shown
        return error_at(message, text, self.source.path, self.line, self.column)


def error_at(message: str, text: str, path: str, line: int, column: int) -> JobSpecError:
    """A JobSpecError at ``line``/``column`` whose second line quotes the source line."""
    lines = text.splitlines()
    if line < 1 or line > len(lines):
        line = max(0, min(line, len(lines)))
        column = 0
    if line:
        shown = lines[line - 1].rstrip().expandtabs(4)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        message = f"{message}\n{line:>5} | {shown}"
    return JobSpecError(message, path=path, line=line, column=max(column, 0))


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """``; did you mean "count"?`` for the closest option, or ``""`` if nothing is close."""
    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
