"""Commands loaded on first use, and Nomad's single-dash flags.

``LazyGroup`` maps command names to ``"module:attribute"`` so ``nomadic version`` does not import
the job parser or the agent; ``--help`` lists commands from the one-line help kept here.
``normalize_args`` rewrites Nomad's Go-style flags for click: ``-detach`` -> ``--detach``,
``-address=http://x`` -> ``--address=http://x``, ``-n=20`` -> ``-n 20`` (stopping at ``--``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["RAW_ARGS_COMMANDS", "LazyGroup", "normalize_args"]

_LONG = re.compile(r"^-[A-Za-z][\w-]+(=.*)?$", re.DOTALL)
_SHORT_WITH_VALUE = re.compile(r"^-([A-Za-z])=(.*)$", re.DOTALL)


#: Commands that parse their own Go-style flags because everything after the allocation is
#: the user's command line (``alloc exec <alloc> ls -la``), which must reach it untouched.
RAW_ARGS_COMMANDS = (("alloc", "exec"), ("exec",))


def normalize_args(args: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--" or tuple(out) in RAW_ARGS_COMMANDS:
            return out + list(args[i:])
        short = _SHORT_WITH_VALUE.match(arg)
        if short:
            out += [f"-{short.group(1)}", short.group(2)]
        elif _LONG.match(arg):
            out.append("-" + arg)
        else:
            out.append(arg)
    return out


class LazyGroup(click.Group):
    """A group whose subcommands are ``name -> ("module:attr", "one-line help")``."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        target, _ = self.lazy[cmd_name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # not part of this build (e.g. the agent before it is written)
            raise
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = normalize_args(args)
        return super().parse_args(ctx, args)
