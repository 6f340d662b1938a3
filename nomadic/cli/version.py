"""``nomadic version``: the installed nomadic version."""

from __future__ import annotations

import click

__all__ = ["version"]


def current_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("nomadic-scheduler")
    except PackageNotFoundError:
        from nomadic import __version__

        return __version__


@click.command()
def version() -> None:
    """Print the nomadic version."""
    click.echo(f"nomadic v{current_version()}")
