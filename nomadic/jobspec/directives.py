"""Template directives in quoted strings: ``%{ if }``/``%{ else }``/``%{ endif }`` and
``%{ for x in xs }``/``%{ endfor }``, with ``~`` strip markers.

The grammar returns a string's parts flat; :func:`render` nests them by matching each
directive with its end and renders the result. Evaluation is the caller's: ``evaluate`` turns
an expression node into a value under extra names (a ``for`` directive's variables), and
``literal`` renders a non-directive part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lark import Token, Tree

from .diagnostics import Span
from .values import describe

__all__ = ["DIRECTIVES", "render"]

LarkTree = Tree[Token]
DIRECTIVES = frozenset(
    {
        "template_if_start",
        "template_else",
        "template_endif",
        "template_for_start",
        "template_endfor",
    }
)
Evaluate = Callable[[LarkTree, Mapping[str, Any]], Any]
Literal = Callable[[LarkTree, Mapping[str, Any]], str]


def _strips(node: LarkTree) -> tuple[bool, bool]:
    """Whether the directive strips whitespace before (``%{~``) and after (``~}``) it."""
    tokens = [c for c in node.children if isinstance(c, Token)]
    marks = [i for i, t in enumerate(tokens) if t.type == "STRIP_MARKER"]
    return (bool(marks) and marks[0] == 1, bool(marks) and marks[-1] == len(tokens) - 2)


def render(
    parts: list[LarkTree], span: Callable[[LarkTree], Span], evaluate: Evaluate, literal: Literal
) -> str:
    """Render a quoted string's parts (``string_part`` trees), directives included."""
    pieces: list[Any] = []  # str, or (strip_left, strip_right) markers around directives
    _render(parts, 0, len(parts), {}, span, evaluate, literal, pieces)
    out: list[str] = []
    strip_next = False
    for piece in pieces:
        if isinstance(piece, tuple):
            if piece[0] and out:
                out[-1] = out[-1].rstrip()
            strip_next = piece[1]
        else:
            out.append(piece.lstrip() if strip_next else piece)
            strip_next = False
    return "".join(out)


def _kind(part: LarkTree) -> str:
    inner = part.children[0]
    return inner.data if isinstance(inner, Tree) and inner.data in DIRECTIVES else ""


def _match(
    parts: list[LarkTree], start: int, end: int, span: Callable[[LarkTree], Span]
) -> tuple[int | None, int]:
    """For the ``if``/``for`` at ``start``: the index of its ``else`` (if any) and its end."""
    opener = _kind(parts[start])
    closer = "template_endif" if opener == "template_if_start" else "template_endfor"
    depth, middle = 0, None
    for i in range(start + 1, end):
        kind = _kind(parts[i])
        if kind in ("template_if_start", "template_for_start"):
            depth += 1
        elif kind in ("template_endif", "template_endfor") and depth:
            depth -= 1
        elif kind == "template_else" and not depth and opener == "template_if_start":
            middle = i
        elif kind == closer and not depth:
            return middle, i
        elif kind and not depth:
            raise span(parts[i]).error(f"unexpected %{{{kind.split('_')[1]}}} directive here")
    word = "endif" if closer == "template_endif" else "endfor"
    raise span(parts[start]).error(f"this directive is never closed; add %{{ {word} }}")


def _render(
    parts: list[LarkTree],
    start: int,
    end: int,
    names: Mapping[str, Any],
    span: Callable[[LarkTree], Span],
    evaluate: Evaluate,
    literal: Literal,
    out: list[Any],
) -> None:
    i = start
    while i < end:
        kind = _kind(parts[i])
        if not kind:
            out.append(literal(parts[i], names))
            i += 1
            continue
        node = parts[i].children[0]
        assert isinstance(node, Tree)
        if kind not in ("template_if_start", "template_for_start"):
            word = kind.split("_")[1]
            raise span(node).error(f"%{{ {word} }} without a matching opening directive")
        middle, close = _match(parts, i, end, span)
        exprs = [c for c in node.children if isinstance(c, Tree)]
        args = (parts, names, span, evaluate, literal, out)
        if kind == "template_if_start":
            out.append(_strips(node))
            _if(exprs[-1], i, middle, close, *args)
            out.append(_strips(_directive(parts[close])))
        else:
            _for(exprs, i, close, *args)
        i = close + 1


def _directive(part: LarkTree) -> LarkTree:
    node = part.children[0]
    assert isinstance(node, Tree)
    return node


def _if(
    cond: LarkTree,
    i: int,
    middle: int | None,
    close: int,
    parts: list[LarkTree],
    names: Mapping[str, Any],
    span: Callable[[LarkTree], Span],
    evaluate: Evaluate,
    literal: Literal,
    out: list[Any],
) -> None:
    value = evaluate(cond, names)
    if isinstance(value, str) and value in ("true", "false"):
        value = value == "true"
    if not isinstance(value, bool):
        raise span(cond).error(f"%{{ if }} needs a bool condition, got {describe(value)}")
    if value:
        _render(
            parts,
            i + 1,
            middle if middle is not None else close,
            names,
            span,
            evaluate,
            literal,
            out,
        )
    elif middle is not None:
        out.append(_strips(_directive(parts[middle])))
        _render(parts, middle + 1, close, names, span, evaluate, literal, out)


def _for(
    exprs: list[LarkTree],
    i: int,
    close: int,
    parts: list[LarkTree],
    names: Mapping[str, Any],
    span: Callable[[LarkTree], Span],
    evaluate: Evaluate,
    literal: Literal,
    out: list[Any],
) -> None:
    idents = [str(e.children[0]) for e in exprs[:-1]]
    collection = evaluate(exprs[-1], names)
    if isinstance(collection, dict):
        pairs: list[tuple[Any, Any]] = list(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        raise span(exprs[-1]).error(f"%{{ for }} cannot iterate over {describe(collection)}")
    for key, value in pairs:
        bound = {idents[0]: key, idents[1]: value} if len(idents) == 2 else {idents[0]: value}
        out.append(_strips(_directive(parts[i])))
        _render(parts, i + 1, close, {**names, **bound}, span, evaluate, literal, out)
        out.append(_strips(_directive(parts[close])))
