"""HCL value conversions: what an attribute's value may become, following cty's rules.

cty converts safely between primitives: numbers and bools become strings, and strings
become numbers or bools when they spell one (``count = "3"`` is fine, ``count = "three"``
is not). Each converter raises :class:`ConversionError` whose text completes the sentence
"expected ..., got ...".
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ConversionError",
    "describe",
    "to_bool",
    "to_float",
    "to_int",
    "to_string",
    "to_string_list",
    "to_string_map",
    "to_template_string",
]


class ConversionError(ValueError):
    """A value of the wrong type; the message reads "expected X, got Y"."""


def describe(value: Any) -> str:
    """A short user-facing description of a value: ``string "three"``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"bool {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {to_template_string(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'string "{shown}"'
    if isinstance(value, list):
        return "a list"
    return "an object"


def to_template_string(value: Any) -> str:
    """How a primitive value prints inside a string: ``3``, ``2.5``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return to_template_string(value)
    raise ConversionError(f"expected a string, got {describe(value)}")


def to_float(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConversionError(f"expected a number, got {describe(value)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConversionError(f"expected a number, got {describe(value)}")
    return float(value)


def to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = to_float(value)
    except ConversionError:
        raise ConversionError(f"expected a whole number, got {describe(value)}") from None
    if not number.is_integer():
        raise ConversionError(f"expected a whole number, got {describe(value)}")
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ConversionError(f"expected a bool (true or false), got {describe(value)}")


def to_string_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ConversionError(f"expected a list of strings, got {describe(value)}")
    try:
        return [to_string(item) for item in value]
    except ConversionError as exc:
        raise ConversionError(f"expected a list of strings, but an element is: {exc}") from None


def to_string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConversionError(f"expected a map of strings, got {describe(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():
        try:
            result[key] = to_string(item)
        except ConversionError as exc:
            raise ConversionError(f"expected a map of strings, but key {key!r}: {exc}") from None
    return result
