"""The ids a day close gives its decisions in memory are random UUIDs of version 4, as ``uuid.uuid4()`` gives them."""
from __future__ import annotations

import uuid
from itertools import islice

from jicai_alerts.application.day_close import event_ids


def test_event_ids_are_distinct_version_4_uuids_in_their_canonical_text() -> None:
    ids = list(islice(event_ids(per_read=64), 5000))  # across many reads of random bytes
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text


def test_event_ids_use_every_random_bit_not_fixed_by_the_version() -> None:
    ints = [uuid.UUID(text).int for text in islice(event_ids(per_read=16), 2000)]
    fixed = (0xF << 76) | (0x3 << 62)  # the version nibble and the variant bits
    varying = 0
    for value in ints:
        varying |= value ^ ints[0]
    assert varying == ((1 << 128) - 1) & ~fixed
