"""The policy book (profiles, region mapping, working-day calendar), loaded once per process.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``.
"""
from __future__ import annotations

from functools import cache

from jicai_policy import PolicyBook, load_policy_book


@cache
def policy_book() -> PolicyBook:
    return load_policy_book()
