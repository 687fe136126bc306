"""The policy book (profiles, region mapping, calendar), loaded once per process.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``;
an invalid file stops the service at start with the file, field and reason.
"""
from __future__ import annotations

from functools import cache

from jicai_policy import load_policy_book

policy_book = cache(load_policy_book)
