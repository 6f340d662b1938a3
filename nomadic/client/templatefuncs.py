"""The functions task templates may call: Go's builtins and consul-template's library, minus
what needs Consul, Vault or Nomad variables (those fail with a message saying so).

``env`` reads the task's environment (as Nomad builds it, ``NOMAD_*`` included); ``file``
reads a file inside the allocation directory only (Nomad's template sandbox).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import yaml

from .gotemplate import TemplateError, go_print, truthy

__all__ = ["template_functions"]

_CONSUL = (
    "key", "keyExists", "keyOrDefault", "ls", "safeLs", "tree", "safeTree", "service",
    "services", "connect", "caRoots", "caLeaf", "node", "nodes", "datacenters", "partitions",
    "peerings", "exportedServices", "byMeta", "byTag",
)  # fmt: skip
_VAULT = ("secret", "secrets", "pkiCert")
_NOMAD = ("nomadVar", "nomadVarList", "nomadVarListSafe", "nomadVarExists", "nomadService",
          "nomadServices")  # fmt: skip


def _unavailable(name: str, what: str) -> Callable[..., Any]:
    def fail(*_args: Any) -> Any:
        raise TemplateError(
            f'{what}: the template function "{name}" cannot be used in nomadic; '
            "see docs/jobspec.md for the functions templates support"
        )

    return fail


def _printf(fmt: str, *args: Any) -> str:
    """Go's Sprintf for the common verbs: %v %s %d %f %q %x %t %%, with width/precision."""
    values = iter(args)

    def verb(m: re.Match[str]) -> str:
        flags, spec = m.group(1), m.group(2)
        if spec == "%":
            return "%"
        value = next(values, None)
        if spec in ("v", "s", "t"):
            return ("%" + flags + "s") % go_print(value)
        if spec == "q":
            return json.dumps(go_print(value))
        if spec in ("d", "f", "e", "g", "x", "X", "o", "b"):
            return ("%" + flags + spec) % value
        raise TemplateError(f"printf: unsupported verb %{spec}")

    return re.sub(r"%([-+ 0#]*\d*(?:\.\d+)?)([a-zA-Z%])", verb, fmt)


def _eq(a: Any, *others: Any) -> bool:
    return any(a == b for b in others)


def _index(collection: Any, *keys: Any) -> Any:
    for key in keys:
        collection = collection.get(key) if isinstance(collection, dict) else collection[int(key)]
    return collection


def _file_reader(sandbox: Path) -> Callable[[str], str]:
    def read(path: str) -> str:
        target = (sandbox / path).resolve() if not Path(path).is_absolute() else Path(path)
        if not target.resolve().is_relative_to(sandbox.resolve()):
            raise TemplateError(
                f"file {path!r} is outside the allocation directory; templates may only read "
                "files inside it"
            )
        return target.read_text(encoding="utf-8")

    return read


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TemplateError("expected a number, got a bool")
    if isinstance(value, str):
        return float(value) if "." in value else int(value)
    return value  # type: ignore[no-any-return]


def _arith(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # consul-template's argument order: {{ 5 | subtract 2 }} is 5 - 2, i.e. (b, a) -> a op b.
    return lambda b, a: op(_number(a), _number(b))


def template_functions(env: Mapping[str, str], sandbox: Path) -> dict[str, Callable[..., Any]]:
    funcs: dict[str, Callable[..., Any]] = {
        # Go builtins
        "and": lambda *a: next((v for v in a if not truthy(v)), a[-1]),
        "or": lambda *a: next((v for v in a if truthy(v)), a[-1]),
        "not": lambda v: not truthy(v),
        "len": len,
        "index": _index,
        "print": lambda *a: "".join(go_print(v) for v in a),
        "println": lambda *a: " ".join(go_print(v) for v in a) + "\n",
        "printf": _printf,
        "eq": _eq,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "slice": lambda v, *i: v[slice(*i)],
        "urlquery": lambda *a: quote_plus("".join(go_print(v) for v in a)),
        # environment and files
        "env": lambda name: env.get(name, ""),
        "envOrDefault": lambda name, default: env.get(name) or default,
        "file": _file_reader(sandbox),
        # strings
        "toLower": lambda s: s.lower(),
        "toUpper": lambda s: s.upper(),
        "toTitle": lambda s: s.title(),
        "trimSpace": lambda s: s.strip(),
        "trimPrefix": lambda p, s: s.removeprefix(p),
        "trimSuffix": lambda p, s: s.removesuffix(p),
        "split": lambda sep, s: s.split(sep) if s else [],
        "join": lambda sep, items: sep.join(go_print(i) for i in items),
        "replaceAll": lambda old, new, s: s.replace(old, new),
        "regexReplaceAll": lambda pattern, repl, s: re.sub(pattern, repl.replace("$", "\\"), s),
        "regexMatch": lambda pattern, s: re.search(pattern, s) is not None,
        "contains": lambda needle, s: needle in s,
        "containsAll": lambda needles, s: all(n in s for n in needles),
        "containsAny": lambda needles, s: any(n in s for n in needles),
        "containsNone": lambda needles, s: not any(n in s for n in needles),
        "in": lambda haystack, needle: needle in haystack,
        "indent": lambda n, s: "\n".join(" " * int(n) + ln for ln in s.split("\n")),
        # encoding
        "base64Encode": lambda s: base64.b64encode(s.encode()).decode(),
        "base64Decode": lambda s: base64.b64decode(s).decode(),
        "base64URLEncode": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
        "base64URLDecode": lambda s: base64.urlsafe_b64decode(s).decode(),
        "toJSON": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
        "toJSONPretty": lambda v: json.dumps(v, indent=2, sort_keys=True),
        "toYAML": lambda v: yaml.safe_dump(v, default_flow_style=False).rstrip("\n"),
        "parseJSON": json.loads,
        "parseYAML": yaml.safe_load,
        "parseInt": lambda s: int(str(s).strip(), 10),
        "parseFloat": lambda s: float(str(s).strip()),
        "parseBool": lambda s: {"true": True, "1": True, "false": False, "0": False}[
            str(s).lower()
        ],
        "sha256Hex": lambda s: hashlib.sha256(s.encode()).hexdigest(),
        "md5sum": lambda s: hashlib.md5(s.encode(), usedforsecurity=False).hexdigest(),
        # numbers and sequences
        "add": _arith(lambda a, b: a + b),
        "subtract": _arith(lambda a, b: a - b),
        "multiply": _arith(lambda a, b: a * b),
        "divide": _arith(
            lambda a, b: a // b if isinstance(a, int) and isinstance(b, int) else a / b
        ),
        "modulo": _arith(lambda a, b: a % b),
        "minimum": lambda b, a: min(_number(a), _number(b)),
        "maximum": lambda b, a: max(_number(a), _number(b)),
        "loop": lambda *a: list(range(*(int(x) for x in a))),
        "timestamp": lambda *fmt: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # a few of sprig's, under consul-template's sprig_ prefix
        "sprig_upper": lambda s: s.upper(),
        "sprig_lower": lambda s: s.lower(),
        "sprig_trim": lambda s: s.strip(),
        "sprig_quote": lambda *a: " ".join(json.dumps(go_print(v)) for v in a),
        "sprig_default": lambda default, value=None: value if truthy(value) else default,
        "sprig_replace": lambda old, new, s: s.replace(old, new),
    }
    for name in _CONSUL:
        funcs[name] = _unavailable(name, "Consul is not available")
    for name in _VAULT:
        funcs[name] = _unavailable(name, "Vault is not available")
    for name in _NOMAD:
        funcs[name] = _unavailable(name, "Nomad variables and services are not available yet")
    for name in ("plugin", "executeTemplate", "writeToFile"):
        funcs[name] = _unavailable(name, "not supported")
    return funcs
