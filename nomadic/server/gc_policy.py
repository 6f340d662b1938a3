"""Garbage-collector policy for a server process holding a large state (installed by
``nomadic agent`` for servers; not by ``Server`` itself, as it changes the whole process).

A server keeps hundreds of thousands of long-lived objects (allocations and the structs inside
them). CPython runs a full collection whenever the long-lived heap has grown by a quarter, and
each one walks every tracked object: at a million allocations the collector, not the
scheduler, would take most of the CPU. The state's objects form no reference cycles (they are
trees of structs, freed by reference counting), so after each full collection the survivors
are frozen (``gc.freeze``) and later collections only walk what was allocated since. The young
generation's threshold is raised too, so short-lived scheduler garbage is collected in fewer,
larger passes.

Frozen objects that later become unreachable cycles (a finished task holding its traceback)
would never be collected, so every ``UNFREEZE_EVERY``-th full collection first unfreezes
everything and walks the whole heap; a long-running agent leaks nothing for long.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

__all__ = ["install"]

YOUNG_THRESHOLD = 20_000  # CPython's default is 700 allocations
UNFREEZE_EVERY = 4
_installed = False
_full_collections = 0
_lock = threading.Lock()


def install() -> None:
    """Apply the policy to this process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, gen1, gen2)
    gc.callbacks.append(_freeze_after_full_collection)


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    global _full_collections
    if info.get("generation") != 2:
        return
    if phase == "start":
        _full_collections += 1
        if _full_collections % UNFREEZE_EVERY == 0:
            gc.unfreeze()  # this collection walks everything, frozen or not
    elif phase == "stop":
        gc.freeze()
