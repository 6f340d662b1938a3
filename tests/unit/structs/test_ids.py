"""new_id: random version-4 UUIDs without a system call per ID."""

from __future__ import annotations

import uuid

from nomadic.structs.ids import new_id


def test_new_ids_are_unique_version_4_uuids() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
