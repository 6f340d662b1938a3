"""Writing PEM files for the ``tls`` commands without overwriting any (as Nomad refuses to)."""

from __future__ import annotations

import os
from pathlib import Path

from nomadic.cli.output import CommandError

__all__ = ["write_new"]


def write_new(files: dict[str, bytes]) -> None:
    """Write ``{path: data}``; keys (``*-key.pem``) readable by their owner only."""
    for path in files:
        if Path(path).exists():
            raise CommandError(f"File '{path}' already exists: move it away or remove it")
    for path, data in files.items():
        mode = 0o600 if path.endswith("-key.pem") else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
