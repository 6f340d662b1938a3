"""The HCL expression evaluator: Lark expression trees to plain Python values.

Values are JSON-like: ``str``, ``int``, ``float``, ``bool``, ``None``, ``list``, ``dict``.
Names resolve through a :class:`Scope`: ``var.<name>`` and ``local.<name>`` (and the
iteration names of ``for`` expressions). Any other reference, such as ``node.unique.name``,
``attr.kernel.name``, ``meta.rack``, ``NOMAD_ALLOC_INDEX`` or ``env["HOME"]``, is a runtime
reference the parser cannot resolve; like Nomad's jobspec2 we keep it literally as the string
``"${<expression>}"`` so the scheduler and the client interpolate it later.

Heredoc templates are tokenised whole by the grammar, so their ``${...}`` sequences are found
here (:mod:`nomadic.jobspec.templates`) and each is parsed as an expression of its own.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hcl2.utils import process_escape_sequences
from lark import Token, Tree

from nomadic.errors import JobSpecError

from .diagnostics import Span, did_you_mean
from .directives import DIRECTIVES, render
from .functions import FUNCTIONS, FunctionError
from .syntax import Expr, LarkTree, span_of
from .templates import has_directive, heredoc_body, parse_expression, quote_template, scan_template
from .values import ConversionError, describe, to_template_string

__all__ = ["Evaluator", "Scope"]

_SKIP = frozenset({"new_line_or_comment"})
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


_UNSUPPORTED: dict[str, str] = {}


@dataclass
class Scope:
    """What names mean while evaluating: input variables, locals (resolved lazily), for-names."""

    variables: Mapping[str, Any] = field(default_factory=dict)
    local: Callable[[str, Span], Any] | None = None
    local_names: frozenset[str] = frozenset()
    names: Mapping[str, Any] = field(default_factory=dict)

    def child(self, names: Mapping[str, Any]) -> Scope:
        return Scope(self.variables, self.local, self.local_names, {**self.names, **names})


class Evaluator:
    """Evaluates expressions of one source text; ``origin`` pins errors to a fixed place."""

    def __init__(self, scope: Scope, origin: Span | None = None) -> None:
        self.scope = scope
        self.origin = origin

    def eval(self, expr: Expr) -> Any:
        if expr.bindings:
            return Evaluator(self.scope.child(expr.bindings), self.origin)._eval(
                expr.tree, expr.span
            )
        return self._eval(expr.tree, expr.span)

    # -- plumbing -------------------------------------------------------------------------

    def _span(self, node: LarkTree | Token, at: Span) -> Span:
        return self.origin or span_of(node, at.source)

    def _text(self, node: LarkTree, at: Span) -> str:
        return at.source.text[node.meta.start_pos : node.meta.end_pos]

    def _trees(self, node: LarkTree) -> list[LarkTree]:
        return [c for c in node.children if isinstance(c, Tree) and c.data not in _SKIP]

    def _eval(self, node: LarkTree | Token, at: Span) -> Any:
        if isinstance(node, Token):
            raise self._span(node, at).error(f"unexpected {str(node)!r} in expression")
        handler = getattr(self, f"_e_{node.data}", None)
        if handler is None:
            what = _UNSUPPORTED.get(node.data, node.data.replace("_", " "))
            raise self._span(node, at).error(f"{what} are not supported yet")
        result: Any = handler(node, at)
        return result

    # -- terms ----------------------------------------------------------------------------

    def _e_expr_term(self, node: LarkTree, at: Span) -> Any:
        return self._eval(self._trees(node)[0], at)

    def _e_int_lit(self, node: LarkTree, at: Span) -> Any:
        return int(str(node.children[0]))

    def _e_float_lit(self, node: LarkTree, at: Span) -> Any:
        value = float(str(node.children[0]))
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def _e_literal_value(self, node: LarkTree, at: Span) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _e_tuple(self, node: LarkTree, at: Span) -> Any:
        return [self._eval(c, at) for c in self._trees(node)]

    def _e_object(self, node: LarkTree, at: Span) -> Any:
        result: dict[str, Any] = {}
        for elem in self._trees(node):
            key_node, value_node = self._trees(elem)
            key = self._object_key(key_node, at)
            result[key] = self._eval(value_node, at)
        return result

    def _object_key(self, node: LarkTree, at: Span) -> str:
        inner = self._trees(node)
        if not inner:  # a keyword used as a key: `{ in = 1 }`
            return "".join(str(v) for v in node.scan_values(lambda v: isinstance(v, Token)))
        term = self._trees(inner[0])
        if inner[0].data == "expr_term" and term and term[0].data == "identifier":
            return str(term[0].children[0])  # a bare name is the key itself, not a reference
        key = self._eval(inner[0], at)
        if isinstance(key, dict | list) or key is None:
            raise self._span(node, at).error(f"object key must be a string, got {describe(key)}")
        return to_template_string(key)

    # -- strings and templates ------------------------------------------------------------

    def _e_string(self, node: LarkTree, at: Span) -> Any:
        parts = self._trees(node)
        if len(parts) == 1:  # "${x}" alone is x itself, unconverted (HCL's template wrap);
            only = parts[0].children[0]  # primitives still print as strings, as a driver's
            if isinstance(only, Tree) and only.data == "interpolation":  # string schema would
                value = self._eval(self._trees(only)[0], at)
                if isinstance(value, list | dict) or value is None:
                    return value
                return to_template_string(value)
        if not any(
            isinstance(p.children[0], Tree) and p.children[0].data in DIRECTIVES for p in parts
        ):
            return "".join(self._string_part(p, at) for p in parts)

        def sub(names: Mapping[str, Any]) -> Evaluator:
            return Evaluator(self.scope.child(names), self.origin)

        return render(
            parts,
            lambda n: self._span(n, at),
            lambda tree, names: sub(names)._eval(tree, at),
            lambda part, names: sub(names)._string_part(part, at),
        )

    def _string_part(self, part: LarkTree, at: Span) -> str:
        value = part.children[0]
        if isinstance(value, Tree):
            if value.data == "interpolation":
                return self._interpolate(value, at)
            raise self._span(value, at).error(
                "template directives (%{if}, %{for}) are not supported yet"
            )
        if value.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
            return str(value)[1:]  # `$${` stands for a literal `${`
        return str(process_escape_sequences(str(value)))

    def _interpolate(self, node: LarkTree, at: Span) -> str:
        inner = self._trees(node)[0]
        value = self._eval(inner, at)
        if value is None or isinstance(value, list | dict):
            raise self._span(node, at).error(
                f"cannot use {describe(value)} in a string template; only strings, numbers "
                "and bools can be interpolated"
            )
        return to_template_string(value)

    def _e_heredoc_template(self, node: LarkTree, at: Span) -> Any:
        return self._heredoc(node, at, trim=False)

    def _e_heredoc_template_trim(self, node: LarkTree, at: Span) -> Any:
        return self._heredoc(node, at, trim=True)

    def _heredoc(self, node: LarkTree, at: Span, *, trim: bool) -> str:
        span = self._span(node, at)
        body = heredoc_body(str(node.children[0]), trim=trim)
        if has_directive(body):  # rendered as the equivalent quoted string, directives and all
            expr = parse_expression(quote_template(body), span, "heredoc template")
            return to_template_string(Evaluator(self.scope, origin=span).eval(expr))
        out: list[str] = []
        for piece in scan_template(body, span):
            if isinstance(piece, str):
                out.append(piece)
            else:
                expr, where = piece
                value = Evaluator(self.scope, origin=where).eval(expr)
                if value is None or isinstance(value, list | dict):
                    raise where.error(f"cannot use {describe(value)} in a heredoc template")
                out.append(to_template_string(value))
        return "".join(out)

    def _e_template_string(self, node: LarkTree, at: Span) -> Any:
        raise self._span(node, at).error("template directives are not supported yet")

    # -- references -----------------------------------------------------------------------

    def _root_name(self, node: LarkTree) -> str | None:
        """The identifier a traversal starts from (``node`` in ``node.unique.name``)."""
        while node.data in ("expr_term", "get_attr_expr_term", "index_expr_term"):
            trees = self._trees(node)
            if not trees:
                return None
            node = trees[0]
        if node.data == "identifier":
            return str(node.children[0])
        return None

    def _is_runtime(self, name: str) -> bool:
        return name not in ("var", "local") and name not in self.scope.names

    def _runtime(self, node: LarkTree, at: Span) -> str:
        return "${" + self._text(node, at) + "}"

    def _e_identifier(self, node: LarkTree, at: Span) -> Any:
        name = str(node.children[0])
        if name in self.scope.names:
            return self.scope.names[name]
        if name == "var":
            return dict(self.scope.variables)
        if name == "local":
            raise self._span(node, at).error('"local" must be followed by a name: local.<name>')
        return self._runtime(node, at)

    def _e_get_attr_expr_term(self, node: LarkTree, at: Span) -> Any:
        root = self._root_name(node)
        if root is not None and self._is_runtime(root):
            return self._runtime(node, at)
        target, get_attr = self._trees(node)
        name = self._attr_name(get_attr)
        if root in ("var", "local") and target.data == "expr_term":
            inner = self._trees(target)[0]
            if inner.data == "identifier":
                return self._lookup(root, name, self._span(get_attr, at))
        return self._index(self._eval(target, at), name, self._span(get_attr, at))

    def _attr_name(self, get_attr: LarkTree) -> str:
        name = get_attr.children[1]
        if isinstance(name, Token):
            return str(name)
        return "".join(str(v) for v in name.scan_values(lambda v: isinstance(v, Token)))

    def _lookup(self, root: str, name: str, span: Span) -> Any:
        if root == "local":
            if name not in self.scope.local_names or self.scope.local is None:
                hint = did_you_mean(name, self.scope.local_names)
                raise span.error(f'reference to undeclared local value "local.{name}"{hint}')
            return self.scope.local(name, span)
        if name not in self.scope.variables:
            hint = did_you_mean(name, self.scope.variables)
            raise span.error(
                f'reference to undeclared input variable "var.{name}"{hint}; declare it with '
                f'variable "{name}" {{}}'
            )
        return self.scope.variables[name]

    def _e_full_splat_expr_term(self, node: LarkTree, at: Span) -> Any:
        return self._splat(node, at)

    def _e_attr_splat_expr_term(self, node: LarkTree, at: Span) -> Any:
        return self._splat(node, at)

    def _splat(self, node: LarkTree, at: Span) -> Any:
        """``list[*].a.b`` / ``list.*.a``: the traversal applied to each element. A null is
        an empty list and a single value is a one-element list, as in HCL."""
        root = self._root_name(self._trees(node)[0])
        if root is not None and self._is_runtime(root):
            return self._runtime(node, at)
        target, splat = self._trees(node)
        value = self._eval(target, at)
        items = [] if value is None else value if isinstance(value, list) else [value]
        result = []
        for item in items:
            for step in self._trees(splat):
                if step.data == "get_attr":
                    item = self._index(item, self._attr_name(step), self._span(step, at))
                elif step.data == "short_index":
                    item = self._index(item, int(str(step.children[1])), self._span(step, at))
                else:
                    key = self._eval(self._trees(step)[0], at)
                    item = self._index(item, key, self._span(step, at))
            result.append(item)
        return result

    def _e_index_expr_term(self, node: LarkTree, at: Span) -> Any:
        root = self._root_name(node)
        if root is not None and self._is_runtime(root):
            return self._runtime(node, at)
        target, index = self._trees(node)
        if index.data == "short_index":
            key: Any = int(str(index.children[1]))
        else:
            key = self._eval(self._trees(index)[0], at)
        return self._index(self._eval(target, at), key, self._span(index, at))

    def _index(self, value: Any, key: Any, span: Span) -> Any:
        if isinstance(value, dict):
            if not isinstance(key, str) or key not in value:
                hint = did_you_mean(str(key), value) if isinstance(key, str) else ""
                raise span.error(f"this object has no element {key!r}{hint}")
            return value[key]
        if isinstance(value, list):
            if isinstance(key, str) and key.lstrip("-").isdigit():
                key = int(key)
            if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < len(value):
                raise span.error(f"invalid index {key!r} for a list of {len(value)} elements")
            return value[key]
        raise span.error(f"cannot index {describe(value)}")

    def _e_function_call(self, node: LarkTree, at: Span) -> Any:
        trees = self._trees(node)
        names = [str(t.children[0]) for t in trees if t.data == "identifier"]
        span = self._span(node, at)
        if len(names) > 1:
            raise span.error(f'provider functions ("{"::".join(names)}") are not supported')
        name = names[0]
        args_tree = next((t for t in trees if t.data == "arguments"), None)
        if name in ("try", "can"):
            return self._try(name, self._trees(args_tree) if args_tree else [], span, at)
        if name == "convert":
            return self._convert(self._trees(args_tree) if args_tree else [], span, at)
        func = FUNCTIONS.get(name)
        if func is None:
            hint = did_you_mean(name, FUNCTIONS)
            raise span.error(f'call to unknown function "{name}"{hint}')
        args = [self._eval(a, at) for a in self._trees(args_tree)] if args_tree else []
        if args_tree is not None and any(
            isinstance(t, Token) and t.type == "ELLIPSIS" for t in args_tree.children
        ):
            if not args or not isinstance(args[-1], list):
                raise span.error(f'"{name}(...)": the argument before "..." must be a list')
            args = args[:-1] + args[-1]
        try:
            return func(*args)
        except FunctionError as exc:
            raise span.error(f'invalid call to "{name}": {exc}') from None
        except (TypeError, ValueError, ArithmeticError, KeyError, IndexError) as exc:
            raise span.error(f'invalid arguments to "{name}": {exc}') from None

    def _try(self, name: str, args: list[LarkTree], span: Span, at: Span) -> Any:
        """``try(a, b, ...)``: the first argument that evaluates without error; ``can(a)``:
        whether it does. They take unevaluated arguments, so they live here, not in FUNCTIONS."""
        if not args or (name == "can" and len(args) != 1):
            raise span.error(f'"{name}" needs {"one argument" if name == "can" else "arguments"}')
        for arg in args:
            try:
                value = self._eval(arg, at)
            except JobSpecError:
                continue
            return True if name == "can" else value
        if name == "can":
            return False
        raise span.error('"try": no argument could be evaluated without an error')

    def _convert(self, args: list[LarkTree], span: Span, at: Span) -> Any:
        """``convert(value, type)``: its second argument is a type, read as written."""
        from .types import convert_to, parse_type

        if len(args) != 2:
            raise span.error('"convert" needs two arguments: convert(value, list(string))')
        try:
            spec = parse_type(self._text(args[1], at))
        except ValueError as exc:
            raise self._span(args[1], at).error(f'invalid type in "convert": {exc}') from None
        try:
            return convert_to(self._eval(args[0], at), spec)
        except ConversionError as exc:
            raise span.error(f'invalid call to "convert": {exc}') from None

    # -- operators ------------------------------------------------------------------------

    def _e_unary_op(self, node: LarkTree, at: Span) -> Any:
        op = str(node.children[0]).strip()
        value = self._eval(node.children[1], at)
        if op == "!":
            return not self._bool(value, node, at, "!")
        return -self._number(value, node, at, "-")

    def _e_binary_op(self, node: LarkTree, at: Span) -> Any:
        left_node, term = self._trees(node)[:2]
        op_node, right_node = self._trees(term)
        op = str(op_node.children[0]).strip()
        left = self._eval(left_node, at)
        if op in ("&&", "||"):
            lhs = self._bool(left, node, at, op)
            if (op == "&&" and not lhs) or (op == "||" and lhs):
                return lhs
            return self._bool(self._eval(right_node, at), node, at, op)
        right = self._eval(right_node, at)
        if op == "==":
            return _same(left, right)
        if op == "!=":
            return not _same(left, right)
        a, b = self._number(left, node, at, op), self._number(right, node, at, op)
        if op in _COMPARE:
            return _COMPARE[op](a, b)
        if op in ("/", "%") and b == 0:
            raise self._span(node, at).error("division by zero")
        result = _ARITH[op](a, b)
        return int(result) if isinstance(result, float) and result.is_integer() else result

    def _e_conditional(self, node: LarkTree, at: Span) -> Any:
        cond, yes, no = self._trees(node)
        chosen = yes if self._bool(self._eval(cond, at), node, at, "?") else no
        return self._eval(chosen, at)

    def _bool(self, value: Any, node: LarkTree, at: Span, op: str) -> bool:
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise self._span(node, at).error(f'"{op}" needs a bool, got {describe(value)}')
        return value

    def _number(self, value: Any, node: LarkTree, at: Span, op: str) -> int | float:
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._span(node, at).error(f'"{op}" needs a number, got {describe(value)}')
        return value

    # -- for expressions ------------------------------------------------------------------

    def _e_for_tuple_expr(self, node: LarkTree, at: Span) -> Any:
        intro, body, *cond = self._trees(node)
        return [
            self.__class__(scope, self.origin)._eval(body, at)
            for scope in self._iterations(intro, cond, at)
        ]

    def _e_for_object_expr(self, node: LarkTree, at: Span) -> Any:
        intro, key_node, value_node, *cond = self._trees(node)
        grouping = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in node.children)
        result: dict[str, Any] = {}
        for scope in self._iterations(intro, cond, at):
            sub = self.__class__(scope, self.origin)
            key = to_template_string(sub._eval(key_node, at))
            value = sub._eval(value_node, at)
            if grouping:
                result.setdefault(key, []).append(value)
            elif key in result:
                raise self._span(key_node, at).error(
                    f"duplicate object key {key!r} in for expression"
                )
            else:
                result[key] = value
        return result

    def _iterations(self, intro: LarkTree, cond: list[LarkTree], at: Span) -> list[Scope]:
        trees = self._trees(intro)
        names = [str(t.children[0]) for t in trees if t.data == "identifier"]
        collection = self._eval(trees[-1], at)
        if isinstance(collection, dict):
            pairs: list[tuple[Any, Any]] = list(collection.items())
        elif isinstance(collection, list):
            pairs = list(enumerate(collection))
        else:
            raise self._span(intro, at).error(f"cannot iterate over {describe(collection)}")
        scopes = []
        for key, value in pairs:
            bound = {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}
            scope = self.scope.child(bound)
            if cond:
                test = self.__class__(scope, self.origin)._eval(self._trees(cond[0])[0], at)
                if not self._bool(test, intro, at, "if"):
                    continue
            scopes.append(scope)
        return scopes


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)
