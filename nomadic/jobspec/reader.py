"""Reading one block against its schema: the decoder's typed, position-aware accessors.

A :class:`BlockReader` is made for a block with the attribute and block names that block
accepts (``ignored_*`` names are accepted and not read: Nomad features nomadic has no use for
yet, such as UI hints, Vault/Consul integration, workload identity or autoscaler policy, so
existing job files run unchanged); unknown names are rejected at once with a "did you mean"
suggestion. Its accessors
evaluate an attribute and convert it, so a wrong type is reported at the attribute, naming it
and the type it needs. ``null`` counts as unset, as in HCL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from nomadic.errors import JobSpecError

from .diagnostics import Span, did_you_mean
from .expressions import Evaluator
from .syntax import Attribute, Block, Body
from .values import (
    ConversionError,
    describe,
    to_bool,
    to_int,
    to_string,
    to_string_list,
    to_string_map,
)

__all__ = ["BlockReader", "parse_duration"]

T = TypeVar("T")

# Blocks that would change what a job does and that nomadic cannot honour yet: refused.
UNSUPPORTED_BLOCKS = frozenset(
    {
        "secret",
        "action",
        "schedule",
        "numa",
        "connect",
    }
)

_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration``: ``"1h30m"``, ``"250ms"``, ``"-1.5s"`` -> nanoseconds."""
    sign, rest = 1, text.strip()
    if rest[:1] in "+-" and rest:
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    total, pos = Decimal(0), 0
    while pos < len(rest):
        match = _DURATION_PART.match(rest, pos)
        if match is None:
            raise ValueError(text)
        try:
            total += Decimal(match.group(1)) * _UNIT_NS[match.group(2)]
        except InvalidOperation:
            raise ValueError(text) from None
        pos = match.end()
    if pos == 0 or total >= 2**63:
        raise ValueError(text)
    return sign * int(total)


class BlockReader:
    """Typed access to one block's attributes and sub-blocks, checked against a schema."""

    def __init__(
        self,
        evaluator: Evaluator,
        body: Body,
        where: str,
        span: Span,
        *,
        attrs: Collection[str] = (),
        blocks: Collection[str] = (),
        ignored_attrs: Collection[str] = (),
        ignored_blocks: Collection[str] = (),
    ) -> None:
        self.evaluator = evaluator
        self.body = body
        self.where = where
        self.span = span
        self._check(set(attrs) | set(ignored_attrs), set(blocks) | set(ignored_blocks))

    @classmethod
    def of(cls, evaluator: Evaluator, block: Block, where: str, **schema: Any) -> BlockReader:
        return cls(evaluator, block.body, where, block.span, **schema)

    def _check(self, attrs: set[str], blocks: set[str]) -> None:
        for attr in self.body.attributes.values():
            if attr.name not in attrs:
                if attr.name in blocks:
                    raise attr.span.error(
                        f'"{attr.name}" in {self.where} is a block, not an argument; write '
                        f"{attr.name} {{ ... }}"
                    )
                hint = did_you_mean(attr.name, attrs)
                raise attr.span.error(f'unsupported argument "{attr.name}" in {self.where}{hint}')
        for block in self.body.blocks:
            if block.type in blocks:
                continue
            if block.type in UNSUPPORTED_BLOCKS:
                raise block.span.error(
                    f'"{block.type}" blocks are not supported by nomadic yet (in {self.where})'
                )
            if block.type in attrs:
                raise block.span.error(
                    f'"{block.type}" in {self.where} is an argument, not a block; write '
                    f"{block.type} = ..."
                )
            hint = did_you_mean(block.type, blocks)
            raise block.span.error(f'unsupported block type "{block.type}" in {self.where}{hint}')

    # -- attributes -----------------------------------------------------------------------

    def attribute(self, name: str) -> Attribute | None:
        return self.body.attributes.get(name)

    def raw(self, name: str) -> Any:
        """The evaluated value of ``name`` (any type), or ``None`` when unset or null."""
        attr = self.body.attributes.get(name)
        return None if attr is None else self.evaluator.eval(attr.expr)

    def _get(self, name: str, convert: Callable[[Any], T], default: T) -> T:
        attr = self.body.attributes.get(name)
        if attr is None:
            return default
        value = self.evaluator.eval(attr.expr)
        if value is None:
            return default
        try:
            return convert(value)
        except ConversionError as exc:
            raise attr.span.error(f'invalid value for "{name}" in {self.where}: {exc}') from None

    def string(self, name: str, default: str = "") -> str:
        return self._get(name, to_string, default)

    def integer(self, name: str, default: int = 0) -> int:
        return self._get(name, to_int, default)

    def boolean(self, name: str, default: bool = False) -> bool:
        return self._get(name, to_bool, default)

    def strings(self, name: str) -> list[str]:
        return self._get(name, to_string_list, [])

    def string_map(self, name: str) -> dict[str, str]:
        return self._get(name, to_string_map, {})

    def duration(self, name: str, default: int = 0) -> int:
        return self._get(name, self._to_duration, default)

    def optional_duration(self, name: str) -> int | None:
        if self.raw(name) is None:
            return None
        return self.duration(name)

    def has(self, name: str) -> bool:
        return name in self.body.attributes and self.raw(name) is not None

    @staticmethod
    def _to_duration(value: Any) -> int:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except ValueError:
                pass
        raise ConversionError(
            f'expected a duration such as "30s", "1h30m" or "250ms", got {describe(value)}'
        )

    # -- blocks ---------------------------------------------------------------------------

    def blocks(self, kind: str) -> list[Block]:
        return [b for b in self.body.blocks if b.type == kind]

    def block(self, kind: str) -> Block | None:
        found = self.blocks(kind)
        if len(found) > 1:
            raise found[1].span.error(
                f'duplicate "{kind}" block in {self.where}; only one is allowed '
                f"(the first is on line {found[0].span.line})"
            )
        return found[0] if found else None

    def labelled(self, kind: str, labels: int = 1) -> list[tuple[Block, str]]:
        """``kind "<label>" { }`` blocks with their label; a missing label is an error."""
        result = []
        for block in self.blocks(kind):
            if len(block.labels) != labels:
                got = "no label" if not block.labels else f"{len(block.labels)} labels"
                raise block.span.error(
                    f'"{kind}" block in {self.where} needs a name label, e.g. '
                    f'{kind} "name" {{ ... }}; it has {got}'
                )
            if not block.labels[0]:
                raise block.span.error(f'"{kind}" block in {self.where} has an empty name label')
            result.append((block, block.labels[0]))
        return result

    def no_labels(self, block: Block) -> None:
        if block.labels:
            raise block.span.error(f'"{block.type}" block in {self.where} takes no labels')

    def string_map_or_block(self, name: str) -> dict[str, str]:
        """``env``/``meta``: a ``name { k = v }`` block or a ``name = { ... }`` map, not both."""
        blocks = self.blocks(name)
        attr = self.body.attributes.get(name)
        if attr is not None and blocks:
            raise blocks[0].span.error(
                f'"{name}" is set both as a block and as an argument (line {attr.span.line}) '
                f"in {self.where}; use one of them"
            )
        if attr is not None:
            return self.string_map(name)
        result: dict[str, str] = {}
        for block in blocks:
            self.no_labels(block)
            inner = BlockReader.of(
                self.evaluator, block, f"{name} in {self.where}", attrs=block.body.attributes
            )
            if block.body.blocks:
                raise block.body.blocks[0].span.error(f'"{name}" blocks take only arguments')
            for key in block.body.attributes:
                result[key] = inner.string(key)
        return result

    def fail(self, name: str, message: str) -> JobSpecError:
        attr = self.body.attributes.get(name)
        return (attr.span if attr else self.span).error(message)
