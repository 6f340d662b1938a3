"""``nomadic fmt [-check] [-write=false] [-list=false] [<path>...]``: canonical HCL formatting.

As ``nomad fmt``: paths are files or directories (searched recursively for ``*.hcl`` and
``*.nomad``; default the current directory); ``-`` formats stdin to stdout. Files whose
formatting changes are listed and rewritten in place. ``-check`` writes nothing and exits 3
if any file needs formatting; a file that is not valid HCL is reported and gives exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from nomadic.cli.output import CommandError, out

__all__ = ["fmt"]

_SUFFIXES = (".hcl", ".nomad")


def _files(paths: tuple[str, ...]) -> Iterator[Path]:
    for name in paths or (".",):
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
        elif path.exists():
            yield path
        else:
            raise CommandError(f"No file or directory at {name}")


@click.command()
@click.argument("paths", nargs=-1, metavar="[<path>...]")
@click.option("--check", is_flag=True, help="Exit 3 if any file is not formatted; write nothing.")
@click.option("--write/--no-write", "write", default=True, help="Rewrite files in place.")
@click.option("--list/--no-list", "list_files", default=True, help="List changed files.")
@click.pass_context
def fmt(
    ctx: click.Context, paths: tuple[str, ...], check: bool, write: bool, list_files: bool
) -> None:
    """Rewrite HCL job and variable files to the canonical format."""
    from nomadic.errors import JobSpecError
    from nomadic.jobspec.formatter import format_hcl

    if paths == ("-",):
        try:
            sys.stdout.write(format_hcl(sys.stdin.read(), "<stdin>"))
        except JobSpecError as exc:
            raise CommandError(f"Error formatting <stdin>:\n{exc}") from None
        return
    unformatted, failed = False, False
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8")
            formatted = format_hcl(text, str(path))
        except (JobSpecError, OSError, UnicodeDecodeError) as exc:
            click.echo(f"Error formatting {path}:\n{exc}", err=True)
            failed = True
            continue
        if formatted == text:
            continue
        unformatted = True
        if list_files:
            out.line(str(path))
        if write and not check:
            path.write_text(formatted, encoding="utf-8")
    if failed:
        ctx.exit(1)
    if check and unformatted:
        ctx.exit(3)
