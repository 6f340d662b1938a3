"""Read a job file for ``job run``/``job validate``: HCL2 or JSON, with ``-var``/``-var-file``.

The parser (:mod:`nomadic.jobspec`) is imported only here, so other commands start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nomadic.cli.output import CommandError
from nomadic.structs import Job

__all__ = ["load_job"]


def _var_file(path: str) -> dict[str, str]:
    """Variables from an HCL or JSON ``-var-file``, in ``-var`` form (the parser's reader)."""
    from nomadic import jobspec
    from nomadic.errors import JobSpecError

    try:
        return jobspec.parse_var_file(path)
    except JobSpecError as exc:
        raise CommandError(f"Error parsing variable file {path}:\n{exc}") from None
    except OSError as exc:
        raise CommandError(f"Error reading variable file {path}: {exc.strerror}") from None


def _vars(var_files: Sequence[str], var_args: Sequence[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for path in var_files:
        variables.update(_var_file(path))
    for arg in var_args:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise CommandError(f'Error parsing -var "{arg}": use -var name=value')
        variables[name] = value
    return variables


def load_job(path: str, var_args: Sequence[str] = (), var_files: Sequence[str] = ()) -> Job:
    """Parse ``path`` (``-`` for stdin) into a Job; errors become CommandError (exit 1).

    Precedence, as Nomad's: variable defaults < ``NOMAD_VAR_<name>`` < ``-var-file`` < ``-var``.
    """
    import os

    from nomadic import jobspec
    from nomadic.errors import JobSpecError

    variables = _vars(var_files, var_args)
    try:
        if path == "-":
            import sys

            text = sys.stdin.read()
            return jobspec.parse(
                text, "<stdin>", variables or None, envs=os.environ, base_dir=os.getcwd()
            )
        if not Path(path).exists():
            raise CommandError(
                f"Error getting job struct: Error opening job file {path}: "
                "no such file or directory"
            )
        return jobspec.parse_file(path, variables or None, envs=os.environ, allow_fs=True)
    except JobSpecError as exc:
        raise CommandError(f"Error parsing job file from {path}:\n{exc}") from None
    except OSError as exc:
        raise CommandError(f"Error reading job file {path}: {exc.strerror}") from None
