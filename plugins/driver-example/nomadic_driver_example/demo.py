"""Small functions to run with the pycall driver (used by the examples and the tests)."""

from __future__ import annotations

import time


def exit_with(code: str) -> int:
    """Exit with the given code."""
    return int(code)


def sleep(seconds: str = "3600") -> None:
    """Sleep, dying on SIGTERM/SIGINT like any process."""
    time.sleep(float(seconds))


def greet(name: str, times: str = "1") -> None:
    """Print a greeting a few times, a second apart."""
    for i in range(int(times)):
        if i:
            time.sleep(1)
        print(f"hello, {name}", flush=True)
