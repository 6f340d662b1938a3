"""The HCL grammar is compiled once per process and cached on disk for the next process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nomadic.jobspec.grammar import cache_path, parser

PARSE_ONE = (
    "from nomadic.jobspec import parse; "
    'print(parse(\'job "x" {\\n group "g" { task "t" {} }\\n}\\n\').id)'
)


def test_parser_is_built_once_per_process() -> None:
    assert parser() is parser()


@pytest.mark.slow
def test_fresh_process_writes_then_reuses_the_grammar_cache(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run(
        [sys.executable, "-c", PARSE_ONE], env=env, capture_output=True, text=True, timeout=120
    )
    assert (first.stdout, first.stderr) == ("x\n", "")
    cached = list((tmp_path / "nomadic").glob("hcl2-grammar-*.bin"))
    assert len(cached) == 1 and cached[0].stat().st_size > 0
    mtime = cached[0].stat().st_mtime_ns
    second = subprocess.run(
        [sys.executable, "-c", PARSE_ONE], env=env, capture_output=True, text=True, timeout=120
    )
    assert (second.stdout, second.stderr) == ("x\n", "")
    assert cached[0].stat().st_mtime_ns == mtime  # loaded, not rebuilt
    cached[0].write_bytes(cached[0].read_bytes()[:100])  # a torn write by a racing process
    third = subprocess.run(
        [sys.executable, "-c", PARSE_ONE], env=env, capture_output=True, text=True, timeout=120
    )
    assert (third.stdout, third.stderr) == ("x\n", "")
    assert cached[0].stat().st_size > 100_000  # rebuilt silently


def test_no_cache_in_a_directory_others_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache is a pickle: a directory owned by someone else (or unwritable) is not used."""
    directory = tmp_path / "nomadic"
    directory.mkdir(mode=0o700)
    if os.getuid() == 0:
        os.chown(directory, 65534, 65534)
    else:
        directory.chmod(0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_path() is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "mine"))
    assert cache_path() == tmp_path / "mine" / "nomadic" / cache_path().name  # type: ignore[union-attr]
