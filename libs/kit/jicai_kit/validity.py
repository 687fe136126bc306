"""The one validity rule for facts at the door: types every request body uses, and the business-date check.

A write is refused (422, nothing written) unless every service that consumes
the fact can decide on it:

* ``Input``: request bodies are strict: no unknown fields, integers are JSON
  integers (``true`` or ``1.0`` is not a quantity), booleans are JSON booleans.
* ``MoneyIn``, ``UnitPriceIn``, ``decimal_text``: decimals travel as JSON strings
  in plain notation with ASCII digits (``"1234.50"``), read exactly. A JSON
  number is refused: JSON parsers read it as a binary float, which turns
  ``99999999999999.99`` into ``…98``. ``"1E+2"`` and full-width digits are refused.
* ``BusinessDate``: a JSON string ``YYYY-MM-DD``; an integer is never a date.
* ``YearMonth``: ``YYYY-MM`` with a real year.
* ``check_dates``: business dates within the region's profile coverage and not
  after today (Asia/Shanghai) by more than ``JICAI_FUTURE_DATE_MARGIN_DAYS``.

Text and ids without control characters are checked for every string of every
request by ``jicai_kit.guard``, before any endpoint runs.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from jicai_events.types import BUSINESS_TZ, Money, UnitPrice
from jicai_kit.problems import invalid_fields
from jicai_kit.settings import ServiceSettings
from jicai_policy import PolicyBook
from jicai_policy.coverage import date_refusal, first_covered_day

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YEAR_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Input(BaseModel):
    """Base of every request body: unknown fields refused, no type coercion (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def text_refusal(text: str) -> str | None:
    """Why ``text`` cannot be stored as text, or None. Tab, line feed and carriage return are allowed in free text."""
    if (found := _CONTROL.search(text)) is not None:
        return f"contains the control character U+{ord(found.group()):04X}"
    if _SURROGATE.search(text) is not None:
        return "is not valid Unicode (a lone surrogate)"
    return None


def decimal_text(value: Any) -> Decimal:
    """A decimal from a JSON string in plain notation; Decimals from Python callers pass unchanged."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('must be a JSON string in plain decimal notation, e.g. "1234.50" (a JSON number is read as a binary float)')
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise ValueError('must be plain decimal notation with ASCII digits, e.g. "1234.50": no exponent, sign +, spaces or full-width digits')
    return Decimal(value)


def _date_text(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as a JSON string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a calendar date") from None


def _year_month(value: str) -> str:
    match = _YEAR_MONTH.fullmatch(value)
    if match is None or int(match.group(1)) == 0:
        raise ValueError("must be a month YYYY-MM with ASCII digits, year 0001 or later")
    return value


_DECIMAL_STRING = WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["1234.50"]}, mode="validation")

MAX_MONEY = Decimal("99999999999999.99")
"""The largest amount a NUMERIC(16, 2) column holds (``max_digits`` alone lets 100000000000000.00 through: it counts 1E+14)."""
MAX_UNIT_PRICE = Decimal("9999999999.9999")
"""The largest price a NUMERIC(14, 4) column holds."""

MoneyIn = Annotated[Money, BeforeValidator(decimal_text), Field(le=MAX_MONEY), _DECIMAL_STRING]
"""Yuan, exact to the fen, as a JSON string, at most 99999999999999.99."""

UnitPriceIn = Annotated[UnitPrice, BeforeValidator(decimal_text), Field(le=MAX_UNIT_PRICE), _DECIMAL_STRING]
"""A unit price up to 4 decimal places, as a JSON string, at most 9999999999.9999."""

BusinessDate = Annotated[date, BeforeValidator(_date_text), WithJsonSchema({"type": "string", "format": "date"}, mode="validation")]
"""A business date in Asia/Shanghai, as a JSON string YYYY-MM-DD."""

YearMonth = Annotated[str, AfterValidator(_year_month), Field(description="YYYY-MM", examples=["2026-05"], pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, YYYY-MM."""


def first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def last_of(month: str) -> date:
    first = first_of(month)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def today(settings: ServiceSettings) -> date:
    """The current business day: ``JICAI_BUSINESS_TODAY`` if set, else today's date in Asia/Shanghai."""
    return settings.business_today or datetime.now(BUSINESS_TZ).date()


def check_dates(
    settings: ServiceSettings,
    book: PolicyBook,
    region_code: str | None,
    facts: Mapping[str, date | None],
    terms: Mapping[str, date | None] | None = None,
    *,
    region_field: str | None = None,
) -> None:
    """422 naming every date no consumer could decide on; nothing is written.

    ``region_field``: the request field the region comes from (``pooling_region_code``, ``institution_id``); a region
    no profile covers is refused naming it once, instead of every date.

    ``facts``: dates something happened (at most the margin after today).
    ``terms``: dates a term starts or ends (may be in the future). ``region_code``
    None (a write naming no region, e.g. a manufacturer's report): the floor is
    the first day any region is covered.
    """
    if region_code is not None and region_field is not None and first_covered_day(book, region_code) is None:
        unassigned = (f"pooling region {region_code} has no policy profile assigned, so no service could decide on it "
                      f"(an operator assigns one: PUT /policy/regions/{region_code}/assignments/{{effective_from}} at contracts)")
        raise invalid_fields([(region_field, unassigned)])
    now = today(settings)
    margin = settings.future_date_margin_days
    errors: list[tuple[str, str]] = []
    for dates, fact in ((facts, True), (terms or {}, False)):
        for field, day in dates.items():
            if day is None:
                continue
            reason = date_refusal(book, region_code, day, today=now, future_margin_days=margin, fact=fact)
            if reason is not None:
                errors.append((field, reason))
    if errors:
        raise invalid_fields(errors)
