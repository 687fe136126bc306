"""Errors raised by the policy library.

Every error names what is missing or wrong and, where an operator can fix it,
how: a policy file that fails validation names the file, the field and the
reason; a date outside the known calendars names the year and how to load a
calendar file for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path


class PolicyError(Exception):
    """Base class of every error this library raises on purpose."""


class PolicyFileError(PolicyError, ValueError):
    """A profile, region or calendar file was refused at load time.

    ``problems`` holds ``(field, reason)`` pairs; ``field`` is a dotted path
    inside the file (``overdue.grace_working_days``) or ``"<file>"`` when the
    file as a whole is wrong (unreadable, not TOML, duplicate).
    """

    def __init__(self, path: Path | str, problems: Sequence[tuple[str, str]]) -> None:
        self.path = Path(path)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        lines = [f"{self.path}: {field}: {reason}" for field, reason in self.problems]
        super().__init__("file refused at load\n  " + "\n  ".join(lines))


class CalendarYearNotCovered(PolicyError, LookupError):
    """No working-day calendar is known for ``year``.

    Raised instead of silently treating every weekday of an unknown year as
    a working day: a wrong holiday schedule would move legal deadlines.
    """

    def __init__(self, year: int, library_years: range) -> None:
        self.year = year
        super().__init__(
            f"no working-day calendar for year {year}: the chinesecalendar library covers "
            f"{library_years.start}-{library_years.stop - 1} and no calendar file was loaded "
            f"for {year}. Write the State Council's holiday schedule "
            f"(国务院办公厅关于{year}年部分节假日安排的通知) as a TOML file such as "
            f"cn-{year}.toml (format: jicai_policy/calendars/README.md) and load it with "
            f"load_calendar([...]) or put it in the directory named by JICAI_CALENDAR_DIR."
        )


class NoProfileForRegion(PolicyError, LookupError):
    """No policy profile is assigned to a pooling region (统筹区) on a date."""

    def __init__(self, region_code: str, on: date, known_from: date | None) -> None:
        self.region_code = region_code
        self.on = on
        detail = (
            "no profile is assigned to the region (regions.toml or the policy topic)"
            if known_from is None
            else f"its first profile takes effect on {known_from.isoformat()}"
        )
        super().__init__(f"no policy profile for pooling region {region_code!r} on {on.isoformat()}: {detail}")


class UnknownProfile(PolicyError, LookupError):
    """No profile with this id and version was loaded."""

    def __init__(self, profile_id: str, version: int) -> None:
        self.profile_id = profile_id
        self.version = version
        super().__init__(f"unknown policy profile {profile_id!r} version {version}")


class InvoiceDateRequired(PolicyError, ValueError):
    """The payment rule counts from the invoice receipt date, which is not known yet.

    Under ``later_of_acceptance_and_invoice_plus_days`` the payment clock
    does not start until the institution has received the invoice (收到发票).
    """

    def __init__(self, rule: str) -> None:
        super().__init__(
            f"payment rule {rule!r} counts from the later of acceptance and invoice receipt: an invoice receipt date is required"
        )
