"""Random UUIDs (version 4) without a system call per ID.

``uuid.uuid4()`` reads ``os.urandom`` for every ID. The scheduler makes one per placement in a
worker thread, and each read releases the GIL, so on a busy server every ID waits for another
thread's switch interval (up to 5 ms). These come from a process-local generator seeded from
``os.urandom`` (and reseeded in a forked child), so they are as unique as uuid4's in practice
but are not suitable as secrets: use ``secrets`` or ``uuid.uuid4()`` for those.
"""

from __future__ import annotations

import os
import random

__all__ = ["new_id"]

_rng = random.Random(os.urandom(32))
_VERSION_4 = 0x4000 << 64  # version nibble
_VARIANT = 0x8000 << 48  # RFC 4122 variant bits
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


def _reseed() -> None:
    _rng.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def new_id() -> str:
    """A random UUID string such as ``"1b4e28ba-2fa1-4d2e-8b3c-9f1a2c3d4e5f"``."""
    n = (_rng.getrandbits(128) & _CLEAR) | _VERSION_4 | _VARIANT
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
