"""The policy book (profiles, region mapping, calendar), loaded once per process (``JICAI_POLICY_DIR`` honoured)."""
from __future__ import annotations

from functools import cache

from jicai_policy import PolicyBook, load_policy_book


@cache
def policy_book() -> PolicyBook:
    return load_policy_book()
