"""The policy book (profiles, region mapping, working-day calendar), loaded once per process.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``;
an invalid file stops the service at start with the file, field and reason.
"""
from __future__ import annotations

from datetime import date
from functools import cache

from jicai_policy import PolicyBook, load_policy_book


@cache
def policy_book() -> PolicyBook:
    return load_policy_book()


_volume_completion_from: list[date | None] = [None]


def configure_volume_completion(since: date | None) -> None:
    """Set once per process from the settings (``JICAI_ALERTS_VOLUME_COMPLETION_FROM``)."""
    _volume_completion_from[0] = since


def volume_completion_from() -> date | None:
    """R3 decides on period ends from this date on; ``None``: no R3 decisions (contracts and acceptances still count)."""
    return _volume_completion_from[0]
