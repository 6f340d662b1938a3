"""``nomadic operator snapshot restore <file>``."""

from __future__ import annotations

from pathlib import Path

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["restore"]


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@api_options
@click.pass_context
def restore(ctx: click.Context, file: str) -> None:
    """Replace the cluster's state with the snapshot in FILE (made by snapshot save)."""
    from nomadic.api import APIError

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise CommandError(f"Error opening snapshot file {file}: {exc.strerror}") from None
    try:
        client_from(ctx).operator.snapshot_restore(data)
    except APIError as exc:
        raise CommandError(f"Failed to restore snapshot: {exc}") from None
    out.line("Snapshot Restored")
