"""``nomadic operator keygen``: a random key for ``server { encrypt = "..." }``."""

from __future__ import annotations

import base64
import secrets

import click

from nomadic.cli.output import out

__all__ = ["keygen"]


@click.command()
def keygen() -> None:
    """Generate a 32-byte base64 key that authenticates and encrypts Raft traffic.

    Put the same key in every server's config: server { encrypt = "<key>" }.
    """
    out.line(base64.b64encode(secrets.token_bytes(32)).decode())
