"""``nomadic operator snapshot save <file>``."""

from __future__ import annotations

from pathlib import Path

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["save"]


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@api_options
@click.pass_context
def save(ctx: click.Context, file: str) -> None:
    """Save the cluster's state (taken on the leader) to FILE."""
    from nomadic.api import APIError

    try:
        data = client_from(ctx).operator.snapshot_save()
    except APIError as exc:
        raise CommandError(f"Failed to get snapshot file: {exc}") from None
    try:
        Path(file).write_bytes(data)
    except OSError as exc:
        raise CommandError(f"Failed to write snapshot file {file}: {exc.strerror}") from None
    out.line(f"State file written to {file}")
