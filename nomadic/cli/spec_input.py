"""Reading the ``<name or path>`` argument of ``namespace apply`` and ``node pool apply``:
an existing file (or ``-`` for stdin) is a specification, anything else a name."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from nomadic.cli.output import CommandError
from nomadic.errors import JobSpecError

__all__ = ["is_spec_path", "read_spec"]

T = TypeVar("T")


def is_spec_path(arg: str) -> bool:
    return arg == "-" or os.path.isfile(arg)


def read_spec(arg: str, parse: Callable[[str, str], T]) -> T:
    """Parse the file (or stdin) ``arg``; errors say file:line:col and what is wrong."""
    path = "<stdin>" if arg == "-" else arg
    try:
        if arg == "-":
            text = sys.stdin.read()
        else:
            with open(arg, encoding="utf-8") as f:
                text = f.read()
        return parse(text, path)
    except OSError as exc:
        raise CommandError(f"Error reading {path}: {exc.strerror}") from None
    except JobSpecError as exc:
        raise CommandError(f"Error parsing {path}:\n{exc}") from None
