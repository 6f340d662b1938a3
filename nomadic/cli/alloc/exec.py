"""``nomadic alloc exec [-i] [-t] [-task t] [-job] <alloc> <command> [args...]``.

Runs a command inside a task's environment and exits with the command's exit code, as
``nomad alloc exec`` does. ``-i`` (default true) passes stdin; ``-t`` (default: stdin and
stdout are terminals) allocates a pseudo-terminal, and the local terminal is switched to raw
mode for the session so keys like Ctrl-C reach the remote command.

Flags are parsed the way Go's ``flag`` package does (they stop at the first argument, so the
command's own flags are left alone): ``-t=false``, ``-task web``, ``--task=web``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import tty as ttymod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import click

from nomadic.cli.options import client_from
from nomadic.cli.output import CommandError

__all__ = ["exec_command"]

USAGE = """Usage: nomadic alloc exec [options] <allocation> <command>

  Run command inside the environment of the given allocation and task.

Exec Specific Options:

  -task <task-name>   Sets the task to exec command in
  -job                Use a random allocation from the specified job ID.
  -i                  Pass stdin to the container, defaults to true. Pass -i=false to disable.
  -t                  Allocate a pseudo-tty, defaults to true if stdin is detected to be a tty
                      session. Pass -t=false to disable explicitly.
  -address, -region, -token   as for every command (NOMAD_ADDR, NOMAD_REGION, NOMAD_TOKEN)"""

_BOOLS = {"job", "i", "t"}
_VALUES = {"task", "address", "region", "token"}
_TRUE = {"1", "t", "true", "TRUE", "True", "T"}
_FALSE = {"0", "f", "false", "FALSE", "False", "F"}


@dataclass
class ExecArgs:
    task: str = ""
    job: bool = False
    i: bool = True
    t: bool = False
    address: str | None = None
    region: str | None = None
    token: str | None = None
    rest: tuple[str, ...] = ()


def parse(args: list[str], default_tty: bool) -> ExecArgs:
    """Go ``flag`` semantics: flags until the first non-flag argument or ``--``."""
    parsed = ExecArgs(t=default_tty)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        name, has_value, value = arg.lstrip("-").partition("=")
        if name in ("h", "help"):
            raise _Usage()
        if name in _BOOLS:
            if has_value and value not in _TRUE | _FALSE:
                raise CommandError(f'invalid boolean value "{value}" for -{name}\n\n{USAGE}')
            setattr(parsed, name, not has_value or value in _TRUE)
        elif name in _VALUES:
            if not has_value:
                if i + 1 >= len(args):
                    raise CommandError(f"flag needs an argument: -{name}\n\n{USAGE}")
                i += 1
                value = args[i]
            setattr(parsed, name, value)
        else:
            raise CommandError(f"flag provided but not defined: -{name}\n\n{USAGE}")
        i += 1
    parsed.rest = tuple(args[i:])
    return parsed


class _Usage(Exception):
    pass


def _is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def exec_command(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run a command inside the environment of an allocation's task."""
    try:
        opts = parse(list(args), _is_tty())
    except _Usage:
        click.echo(USAGE)
        return
    for key in ("address", "region", "token"):
        if getattr(opts, key) is not None:
            ctx.meta[f"nomadic.{key}"] = getattr(opts, key)
    if not opts.rest:
        what = "A job ID" if opts.job else "An allocation ID"
        raise CommandError(f"{what} is required\n\n{USAGE}")
    if not opts.job and len(opts.rest[0]) == 1:
        raise CommandError("Alloc ID must contain at least two characters")
    if len(opts.rest) < 2:
        raise CommandError(f"A command is required\n\n{USAGE}")
    if opts.t and not opts.i:
        raise CommandError("-i must be enabled if running with tty")
    ctx.exit(_run(ctx, opts))


def _run(ctx: click.Context, opts: ExecArgs) -> int:
    from nomadic.api import APIError
    from nomadic.cli.alloc.logs import _pick_alloc, _pick_task

    client = client_from(ctx)
    try:
        alloc = _pick_alloc(client, opts.rest[0], opts.job)
        task = _pick_task(alloc, opts.task or None)
    except APIError as exc:
        raise CommandError(f"Error querying allocation: {exc}") from None
    stdin = sys.stdin.buffer if opts.i else None
    with _raw_terminal(opts.t) as size:
        try:
            return client.allocations.exec(
                alloc.id,
                task,
                list(opts.rest[1:]),
                tty=opts.t,
                stdin=stdin,
                stdout=sys.stdout.buffer,
                stderr=sys.stderr.buffer,
                terminal_size=size,
            )
        except APIError as exc:
            raise CommandError(f"failed to exec into task: {exc.message or exc}") from None


@contextlib.contextmanager
def _raw_terminal(tty: bool) -> Iterator[Callable[[], tuple[int, int] | None] | None]:
    """With a TTY on a local terminal: raw mode for the session (restored after), and the
    terminal's size to send to the remote pseudo-terminal."""
    if not tty or not sys.stdin.isatty():
        yield None
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)

    def size() -> tuple[int, int] | None:
        try:
            cols, rows = os.get_terminal_size(sys.stdout.fileno())
        except OSError:
            return None
        return rows, cols

    ttymod.setraw(fd, termios.TCSANOW)  # keep what the user typed ahead
    try:
        yield size
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
