"""Filesystem functions of the job file language, relative to the job file's directory.

``file``, ``filebase64``, ``fileexists``, ``fileset``, ``abspath``, ``basename``, ``dirname``
and ``pathexpand`` work only where the job file is read locally (the CLI); a job parsed on the
server (``POST /v1/jobs/parse``) has them disabled and each call fails with "filesystem
function disabled", as in Nomad. :func:`filesystem_access` turns them on for one parse.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import glob
import os
from collections.abc import Callable, Iterator
from typing import Any

from .encoding import FunctionError, text

__all__ = ["FILESYSTEM_FUNCTIONS", "filesystem_access"]

_BASE_DIR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "nomadic_jobspec_base_dir", default=None
)


@contextlib.contextmanager
def filesystem_access(base_dir: str | None) -> Iterator[None]:
    """Enable the filesystem functions, relative to ``base_dir``, while the block runs.

    ``None`` leaves them disabled.
    """
    token = _BASE_DIR.set(os.path.abspath(base_dir) if base_dir is not None else None)
    try:
        yield
    finally:
        _BASE_DIR.reset(token)


def _base() -> str:
    base = _BASE_DIR.get()
    if base is None:
        raise FunctionError(
            "filesystem function disabled: file functions work only when the job file is "
            "read by the CLI, not when it is parsed by the server"
        )
    return base


def _resolve(path: Any) -> str:
    return os.path.join(_base(), os.path.expanduser(text(path)))


def _read(path: Any) -> bytes:
    full = _resolve(path)
    try:
        with open(full, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise FunctionError(f"cannot read {text(path)!r}: {exc.strerror or exc}") from None


def _file(path: Any) -> str:
    try:
        return _read(path).decode()
    except UnicodeDecodeError:
        raise FunctionError(
            f"{text(path)!r} is not UTF-8 text; use filebase64 for binary files"
        ) from None


def _fileexists(path: Any) -> bool:
    full = _resolve(path)
    if os.path.exists(full) and not os.path.isfile(full):
        raise FunctionError(f"{text(path)!r} is not a regular file")
    return os.path.isfile(full)


def _fileset(path: Any, pattern: Any) -> list[str]:
    root = _resolve(path)
    matches = glob.glob(text(pattern), root_dir=root, recursive=True)
    return sorted(m for m in matches if os.path.isfile(os.path.join(root, m)))


def _gated(func: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        _base()
        return func(*args)

    return call


FILESYSTEM_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abspath": lambda p: os.path.normpath(_resolve(p)),
    "basename": _gated(lambda p: os.path.basename(text(p))),
    "dirname": _gated(lambda p: os.path.dirname(text(p))),
    "file": _file,
    "filebase64": lambda p: base64.b64encode(_read(p)).decode(),
    "fileexists": _fileexists,
    "fileset": _fileset,
    "pathexpand": _gated(lambda p: os.path.expanduser(text(p))),
}
