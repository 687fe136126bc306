"""JSON written to JSONB columns by COPY and unnest reads back as the value written."""
from __future__ import annotations

import json
from typing import Any

import pytest

from jicai_events.pgcopy import json_text

VALUES: list[Any] = [
    {"invoice_id": "INV-1", "amount": "198.00", "caused_by": ["EVT-1", "EVT-2"], "withhold_due_on": None, "n": 3, "ok": True},
    ["预警", "暂缓拨付", "\u2028", "quote \" and backslash \\", "\x00\x1f control"],
    {"nested": {"a": [1, 2.5, -3e20, {"b": None}]}, "empty": {}, "list": []},
    "plain",
    17,
]


@pytest.mark.parametrize("value", VALUES)
def test_json_text_reads_back_as_the_value(value: Any) -> None:
    text = json_text(value)
    assert json.loads(text) == value
