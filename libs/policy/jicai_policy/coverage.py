"""Which business dates every service can decide on: the validity rule for a fact's dates.

A fact dated before its pooling region's first profile takes effect cannot be
decided by any rule (no profile says what the deadline, the line or the cycle
is), and a fact dated in the future has not happened. Refusing both at the
door, before anything is written, keeps a service from answering 201 for a
fact another service must later dead-letter.
"""
from __future__ import annotations

from datetime import date, timedelta

from jicai_policy.book import PolicyBook


def first_covered_day(book: PolicyBook, region_code: str) -> date | None:
    """The day the region's first profile assignment takes effect; None for a region ``regions.toml`` does not list."""
    entries = book.regions.get(region_code, ())
    return entries[0].effective_from if entries else None


def date_refusal(book: PolicyBook, region_code: str | None, day: date, *, today: date, future_margin_days: int, fact: bool = True) -> str | None:
    """Why ``day`` cannot be a business date of a write in ``region_code``, or None when every service can decide on it.

    ``fact``: the date something happened (received, paid, accepted), which may
    be at most ``future_margin_days`` after ``today``; a term (a cycle's end)
    may lie in the future but must still be covered by the region's profiles.
    ``region_code`` None (a write that names no region, e.g. a manufacturer's
    report): the floor is the first day any region is covered. A region no profile
    covers (not in ``regions.toml`` and not assigned on the policy topic yet) is
    refused: no service could decide on its facts.
    """
    found = first_covered_day(book, region_code) if region_code is not None else None
    if found is not None:
        first, whose = found, f"pooling region {region_code}"
    elif region_code is not None:
        return (f"pooling region {region_code} has no policy profile assigned, so no service could decide on {day.isoformat()} "
                f"(an operator assigns one: PUT /policy/regions/{region_code}/assignments/{{effective_from}} at contracts)")
    else:
        first, whose = min(entries[0].effective_from for entries in book.regions.values() if entries), "any pooling region"
    if day < first:
        return f"{day.isoformat()} is before the first policy profile of {whose} takes effect on {first.isoformat()}"
    latest = today + timedelta(days=future_margin_days)
    if fact and day > latest:
        return (f"{day.isoformat()} is in the future: the latest accepted date is {latest.isoformat()} "
                f"(today {today.isoformat()} in Asia/Shanghai + {future_margin_days} day(s))")
    return None
