"""The HCL2 syntax layer: python-hcl2's Lark grammar, built once per process and cached on disk.

python-hcl2 gives us the grammar and its post-lexer; we build the LALR parser ourselves so
that (a) it is built once per process (``functools.cache``) and (b) its compiled tables are
cached in the user's cache directory (``$XDG_CACHE_HOME/nomadic`` or ``~/.cache/nomadic``),
not next to the installed package, which may be read-only. Without the cache the first parse
in a fresh process costs ~1.2 s of grammar analysis; with it, ~70 ms. A cache that cannot be
written is not an error: Lark logs it and we carry on uncached.

Syntax errors from Lark are translated into :class:`~nomadic.errors.JobSpecError` here, with
the file, line and column of the offending token.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import hcl2
import lark
from hcl2.postlexer import PostLexer

from nomadic.errors import JobSpecError

from .diagnostics import error_at

__all__ = ["cache_path", "parse_tree", "parser"]

_GRAMMAR = Path(hcl2.__file__).resolve().parent / "hcl2.lark"


def cache_path() -> Path | None:
    """Where the compiled grammar is cached, or ``None`` if no private cache dir is usable."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "nomadic"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    # The cache is a pickle: only use a directory that no one else can write into, and one we
    # can write (Lark would log a traceback on a failed save).
    if os.name == "posix" and directory.stat().st_uid != os.getuid():
        return None
    if not os.access(directory, os.W_OK):
        return None
    hcl2_version = getattr(hcl2, "__version__", "0")
    python = f"{sys.version_info[0]}{sys.version_info[1]}"
    version = f"{hcl2_version}-lark{lark.__version__}-py{python}"
    return directory / f"hcl2-grammar-{version}.bin"


@functools.cache
def parser() -> lark.Lark:
    """The LALR parser for HCL2, with positions on every tree node; built once per process."""
    cache = cache_path()
    return lark.Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        cache=str(cache) if cache else False,
        propagate_positions=True,
        postlex=PostLexer(),
        import_paths=[str(_GRAMMAR.parent)],
    )


def parse_tree(text: str, path: str) -> lark.Tree[lark.Token]:
    """Parse HCL2 ``text`` into a Lark tree, or raise JobSpecError at the offending token."""
    try:
        # A trailing newline works around Lark's missing end-of-file token (python-hcl2 does
        # the same): the grammar needs a newline to end the last attribute.
        return parser().parse(text + "\n")
    except lark.exceptions.UnexpectedInput as exc:
        line, column = getattr(exc, "line", 0), getattr(exc, "column", 0)
        raise error_at(_describe_syntax_error(exc), text, path, line, column) from None
    except lark.exceptions.LarkError as exc:
        raise JobSpecError(f"invalid HCL: {exc}", path=path) from None
    except RecursionError:
        raise JobSpecError("invalid HCL: expressions nested too deeply", path=path) from None


def _describe_syntax_error(exc: lark.exceptions.UnexpectedInput) -> str:
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        char = exc.char if exc.char not in ("\n", "\r") else "newline"
        return f"invalid HCL syntax: unexpected character {char!r}"
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return "invalid HCL syntax: unexpected end of file (is a closing brace missing?)"
        text = (str(token).strip().splitlines() or [""])[0][:30]
        shown = "newline" if token.type == "NL_OR_COMMENT" or not text else repr(text)
        return f"invalid HCL syntax: unexpected {shown}"
    if isinstance(exc, lark.exceptions.UnexpectedEOF):
        return "invalid HCL syntax: unexpected end of file (is a closing brace missing?)"
    return "invalid HCL syntax"
