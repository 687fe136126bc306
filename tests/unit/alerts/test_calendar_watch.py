"""The readiness warning before the working-day calendar runs out (alerts' /readyz, degraded)."""
from __future__ import annotations

from datetime import date

import pytest

from jicai_alerts.adapters.calendar_watch import warning


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        (date(2026, 11, 1), False),  # 60 days before 12-31
        (date(2026, 11, 2), True),  # 59 days
        (date(2026, 12, 31), True),
        (date(2027, 1, 5), True),  # already past: still warned
    ],
)
def test_warned_from_the_setting_s_days_before_the_last_covered_day(today: date, warned: bool) -> None:
    message = warning(date(2026, 12, 31), today, warning_days=60)

    assert (message is not None) == warned
    if message:
        assert "load 2027" in message and "2026-12-31" in message
