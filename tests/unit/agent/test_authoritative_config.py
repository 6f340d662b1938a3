"""``server { authoritative_region replication_backoff }`` in the agent config."""

from __future__ import annotations

from pathlib import Path

from nomadic.agent.config import load_file


def test_authoritative_region_is_read(tmp_path: Path) -> None:
    path = tmp_path / "us.hcl"
    path.write_text(
        'region = "us"\nserver {\n  enabled = true\n  authoritative_region = "eu"\n'
        '  replication_backoff = "500ms"\n}\n'
    )
    cfg = load_file(str(path))
    assert (cfg.region, cfg.server.authoritative_region) == ("us", "eu")
    assert cfg.server.replication_backoff == "500ms"


def test_default_is_the_own_region(tmp_path: Path) -> None:
    path = tmp_path / "eu.hcl"
    path.write_text('region = "eu"\nserver {\n  enabled = true\n}\n')
    cfg = load_file(str(path))
    assert cfg.server.authoritative_region == ""  # the server then uses its own region
