"""The policy book (profiles, region mapping, working-day calendar), loaded once per process.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``;
an invalid file stops the service at start with the file, field and reason.
The platform's go-live per rule and region (R3 ``volume_completion_from``, R4
``non_winning_cap_from``) is region data in ``regions.toml``.
"""
from __future__ import annotations

from functools import cache

from jicai_alerts.domain import manufacturer_report as mr
from jicai_policy import PolicyBook, load_policy_book


@cache
def policy_book() -> PolicyBook:
    return load_policy_book()


def manufacturer_report_checks(book: PolicyBook) -> tuple[mr.ProfileFor, mr.LiveFrom]:
    """The profile in force and the region's go-live of the monthly-report check (``manufacturer_report_from``)."""
    return (lambda region, on: book.profile_for(region, on=on)), (lambda region, on: book.entry_for(region, on=on).manufacturer_report_from)
