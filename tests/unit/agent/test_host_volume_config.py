"""``client { host_volume "<name>" { path read_only } }`` in the agent config."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomadic.agent.config import load_file
from nomadic.errors import ConfigError


def _load(tmp_path: Path, body: str) -> object:
    path = tmp_path / "agent.hcl"
    path.write_text(f"client {{\n  enabled = true\n{body}\n}}\n")
    return load_file(str(path))


def test_host_volumes_are_read(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    cfg = _load(
        tmp_path,
        f"""
        host_volume "data" {{
          path = "{tmp_path}/data"
        }}
        host_volume "certs" {{
          path      = "/etc"
          read_only = true
        }}
        """,
    )
    assert cfg.client.host_volumes == {  # type: ignore[attr-defined]
        "data": (f"{tmp_path}/data", False),
        "certs": ("/etc", True),
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('host_volume "x" {\n path = "relative/dir"\n}', "path must be an absolute path"),
        ('host_volume "x" {\n path = "/no/such/dir"\n}', "/no/such/dir does not exist"),
        ('host_volume "x" {\n path = "/etc"\n readonly = true\n}', "unknown key 'readonly'"),
        ('host_volume "x" {\n path = "/etc"\n read_only = "yes"\n}', "expected true or false"),
    ],
)
def test_bad_host_volumes_are_named(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        _load(tmp_path, body)
    assert 'client.host_volume "x"' in str(err.value)
