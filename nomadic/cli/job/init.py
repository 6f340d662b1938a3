"""``nomadic job init [-short] [<filename>]``: write Nomad's starter job file.

The spec is Nomad's ``example.nomad.hcl`` adapted to run here as written: the redis container
becomes a ``raw_exec`` task (Python's ``http.server`` on a dynamic port), so
``nomadic job run example.nomad.hcl`` places and starts it on a ``-dev`` agent. It refuses to
overwrite an existing file (exit 1), as Nomad does.
"""

from __future__ import annotations

import os
from importlib import resources

import click

from nomadic.cli.output import CommandError, out

__all__ = ["init"]

DEFAULT_FILE = "example.nomad.hcl"


def starter_spec(short: bool) -> str:
    """The text ``job init`` writes (``short``: without the explanatory comments)."""
    name = "example-short.nomad.hcl" if short else "example.nomad.hcl"
    return (resources.files("nomadic.cli.job") / "assets" / name).read_text(encoding="utf-8")


@click.command()
@click.argument("filename", required=False, default=DEFAULT_FILE, metavar="[<filename>]")
@click.option("--short", is_flag=True, help="Write a minimal job file without comments.")
@click.option("--connect", is_flag=True, hidden=True)
@click.option("--template", "template", default=None, hidden=True)
def init(filename: str, short: bool, connect: bool, template: str | None) -> None:
    """Create an example job file (example.nomad.hcl) in the current directory."""
    if connect or template:
        raise CommandError("Error: -connect and -template examples are not supported yet")
    if os.path.exists(filename):
        raise CommandError(f"Job '{filename}' already exists")
    try:
        with open(filename, "x", encoding="utf-8") as handle:
            handle.write(starter_spec(short))
    except OSError as exc:
        raise CommandError(f"Failed to write '{filename}': {exc.strerror or exc}") from None
    out.line(f"Example job file written to {filename}")
