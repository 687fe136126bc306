"""Which PostgreSQL settings make production refuse to be ready."""
from __future__ import annotations

from jicai_kit.durability import unsafe_settings


def test_fsync_or_synchronous_commit_off_is_named() -> None:
    assert unsafe_settings({"fsync": "off", "synchronous_commit": "on"}) == ["fsync=off"]
    assert unsafe_settings({"fsync": "on", "synchronous_commit": "off"}) == ["synchronous_commit=off"]
    assert unsafe_settings({"synchronous_commit": "off", "fsync": "off"}) == ["fsync=off", "synchronous_commit=off"]


def test_every_synchronous_commit_level_that_flushes_locally_is_safe() -> None:
    for level in ("on", "local", "remote_write", "remote_apply"):
        assert unsafe_settings({"fsync": "on", "synchronous_commit": level}) == []
