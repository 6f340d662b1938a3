"""Version constraints for the ``version`` and ``semver`` constraint operators.

``version`` follows hashicorp/go-version: operators ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``
and ``~>`` (pessimistic), comma-separated, and a pre-release version only satisfies a range
constraint whose version is a pre-release of the same release. ``semver`` follows Semantic
Versioning 2.0 ordering strictly (pre-releases compare normally) and has no ``~>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Version", "VersionConstraint", "parse_constraint", "parse_version"]

_VERSION = re.compile(
    r"^v?(?P<segs>[0-9]+(?:\.[0-9]+)*)"
    r"(?:-(?P<pre>[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?"
    r"(?:\+(?P<meta>[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?$"
)
_CONSTRAINT = re.compile(r"^\s*(?P<op>~>|>=|<=|!=|=|>|<)?\s*(?P<ver>\S+)\s*$")


@dataclass(frozen=True)
class Version:
    segments: tuple[int, ...]
    prerelease: str = ""
    # how many segments were written (``~> 1.2`` differs from ``~> 1.2.0``)
    written: int = 3

    def compare(self, other: Version) -> int:
        """-1, 0 or 1, ignoring build metadata; a pre-release sorts before its release."""
        n = max(len(self.segments), len(other.segments))
        a = self.segments + (0,) * (n - len(self.segments))
        b = other.segments + (0,) * (n - len(other.segments))
        if a != b:
            return -1 if a < b else 1
        return _compare_prerelease(self.prerelease, other.prerelease)


def _compare_prerelease(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb, strict=False):
        if x == y:
            continue
        xn, yn = x.isdigit(), y.isdigit()
        if xn and yn:
            return -1 if int(x) < int(y) else 1
        if xn != yn:
            return -1 if xn else 1  # numeric identifiers sort before alphanumeric ones
        return -1 if x < y else 1
    return -1 if len(pa) < len(pb) else (1 if len(pa) > len(pb) else 0)


def parse_version(text: str) -> Version | None:
    """``1.2.3-beta.1+build`` -> Version; None when it is not a version."""
    m = _VERSION.match(text.strip())
    if not m:
        return None
    segs = tuple(int(s) for s in m.group("segs").split("."))
    written = len(segs)
    if len(segs) < 3:
        segs = segs + (0,) * (3 - len(segs))
    return Version(segs, m.group("pre") or "", written)


@dataclass(frozen=True)
class VersionConstraint:
    terms: tuple[tuple[str, Version], ...]
    semver: bool

    def check(self, v: Version) -> bool:
        return all(self._check_term(op, c, v) for op, c in self.terms)

    def _check_term(self, op: str, c: Version, v: Version) -> bool:
        cmp = v.compare(c)
        if op in ("", "="):
            return cmp == 0
        if op == "!=":
            return cmp != 0
        if not self.semver and not _prerelease_ok(v, c):
            return False
        if op == ">":
            return cmp > 0
        if op == "<":
            return cmp < 0
        if op == ">=":
            return cmp >= 0
        if op == "<=":
            return cmp <= 0
        return _pessimistic(v, c)


def _prerelease_ok(v: Version, c: Version) -> bool:
    """go-version: a pre-release only matches a constraint on a pre-release of the same release."""
    if v.prerelease and c.prerelease:
        return v.segments == c.segments
    return not (v.prerelease and not c.prerelease)


def _pessimistic(v: Version, c: Version) -> bool:
    """``~> 1.2`` means >= 1.2, < 2.0; ``~> 1.2.3`` means >= 1.2.3, < 1.3.0."""
    if v.compare(c) < 0:
        return False
    last = c.written - 1
    if last <= 0:
        return v.segments[0] >= c.segments[0]
    if v.segments[:last] != c.segments[:last]:
        return False
    return v.segments[last] >= c.segments[last]


def parse_constraint(text: str, *, semver: bool = False) -> VersionConstraint | None:
    """``">= 1.2, < 2.0"`` -> VersionConstraint; None when any term does not parse."""
    terms: list[tuple[str, Version]] = []
    for part in text.split(","):
        m = _CONSTRAINT.match(part)
        if not m:
            return None
        op = m.group("op") or ""
        if semver and op == "~>":
            return None
        ver = parse_version(m.group("ver"))
        if ver is None:
            return None
        terms.append((op, ver))
    return VersionConstraint(tuple(terms), semver) if terms else None
