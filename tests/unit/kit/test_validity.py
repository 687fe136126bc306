"""The pure validity rules every request passes: decimals, dates, months, text, and the business-date coverage."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from jicai_kit.guard import _strings, body_refusals, request_line_refusals
from jicai_kit.validity import BusinessDate, Input, MoneyIn, UnitPriceIn, YearMonth, text_refusal
from jicai_policy import load_policy_book
from jicai_policy.coverage import date_refusal, first_covered_day

BOOK = load_policy_book(calendar_overrides=())
TODAY = date(2026, 11, 29)


class Body(Input):
    amount: MoneyIn
    quantity: int
    on: BusinessDate
    month: YearMonth


GOOD = {"amount": "99999999999999.99", "quantity": 5, "on": "2026-03-02", "month": "2026-05"}


def _refused(**changes: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Body.model_validate({**GOOD, **changes})
    [error] = raised.value.errors()
    return str(error["loc"][0])


def test_money_is_read_exactly_from_a_string_up_to_the_columns_range() -> None:
    assert Body.model_validate(GOOD).amount == Decimal("99999999999999.99")  # not ...98, as a float would make it
    assert TypeAdapter(MoneyIn).validate_python("0.5") == Decimal("0.50")
    assert TypeAdapter(UnitPriceIn).validate_python("2.0050") == Decimal("2.0050")


@pytest.mark.parametrize("amount", [
    99999999999999.99, 100, True, "1E+2", "1e2", "１２.００", " 12.00", "+12.00", "12,00", "NaN", "Infinity", "100000000000000.00",
    "-1.00", "1.005", "", ".5", "5.",
])
def test_money_that_is_not_a_plain_decimal_string_within_range_is_refused(amount: object) -> None:
    assert _refused(amount=amount) == "amount"


@pytest.mark.parametrize("quantity", [True, False, 5.0, "5", None])
def test_a_quantity_is_a_json_integer_only(quantity: object) -> None:
    assert _refused(quantity=quantity) == "quantity"


@pytest.mark.parametrize("on", [20260302, 1772409600, "2026-3-2", "2026-02-30", "２０２６-03-02", "2026-03-02T00:00:00", True])
def test_a_date_is_a_yyyy_mm_dd_string_of_a_real_day(on: object) -> None:
    assert _refused(on=on) == "on"


@pytest.mark.parametrize("month", ["0000-01", "2026-13", "2026-00", "2026-1", "２０２６-01", 202605])
def test_a_month_is_yyyy_mm_with_a_real_year(month: object) -> None:
    assert _refused(month=month) == "month"


def test_unknown_fields_are_refused() -> None:
    assert _refused(unexpected=1) == "unexpected"


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "\x1b[31m", "\x7f", "\x85", "\ud800"])
def test_control_characters_and_lone_surrogates_are_not_text(text: str) -> None:
    assert text_refusal(text) is not None


@pytest.mark.parametrize("text", ["第一行\n第二行", "tab\there", "crlf\r\n", "H001", "发票号码 №12"])
def test_ordinary_text_with_line_breaks_is_text(text: str) -> None:
    assert text_refusal(text) is None


def test_the_guard_names_the_field_path_of_a_control_character_anywhere_in_a_body() -> None:
    body = b'{"lines": [{"reason": "ok"}, {"reason": "bad\\u0000"}], "k\\u0001": 1}'
    assert [field for field, _ in body_refusals(body)] == ["lines[1].reason", "k\x01"]
    assert body_refusals(b"not json") == []  # left to the endpoint's own validation
    assert [f for f, _ in request_line_refusals("/invoices/\x00", b"")] == ["path"]
    assert [f for f, _ in request_line_refusals("/kpis", b"month=2026-05&x=%00")] == ["query.x"]


def _refusals_of_every_string(body: bytes) -> list[tuple[str, str]]:
    """The guard's answer without its shortcut: parse the body and check every string."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    return [(field, reason) for field, text in _strings(document, "") if (reason := text_refusal(text)) is not None]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_the_guards_shortcut_for_plain_bodies_misses_no_refused_character(encoding: str) -> None:
    """A body the guard does not parse (no escape, DEL, C1 control or surrogate among its bytes) refuses nothing
    parsed either: every code point up to U+01FF and around the surrogates, escaped or raw, in a value or a key."""
    for code in [*range(0x200), *range(0xD7F0, 0xE010), 0x2028, 0xFEFF, 0x10FFFF]:
        char = chr(code)
        for document in (json.dumps({"a": char}), json.dumps({"a": char}, ensure_ascii=False), json.dumps({char: 1}, ensure_ascii=False)):
            body = document.encode(encoding, "surrogatepass")
            assert body_refusals(body) == _refusals_of_every_string(body), (hex(code), body)


def test_a_business_date_must_lie_within_the_regions_profile_coverage_and_not_in_the_future() -> None:
    guiyang = "520100"
    first = first_covered_day(BOOK, guiyang)
    assert first == date(2020, 4, 14)

    def refusal(day: date, fact: bool = True, region: str | None = guiyang) -> str | None:
        return date_refusal(BOOK, region, day, today=TODAY, future_margin_days=1, fact=fact)

    assert refusal(first) is None and refusal(date(2026, 11, 30)) is None  # today + the margin
    assert "first policy profile" in (refusal(date(2020, 4, 13)) or "")
    assert "first policy profile" in (refusal(date(1, 1, 1)) or "")
    assert "in the future" in (refusal(date(2026, 12, 1)) or "")
    assert "in the future" in (refusal(date(9999, 12, 31)) or "")
    assert refusal(date(2028, 12, 31), fact=False) is None  # a term (a cycle's end) may lie ahead
    # no region named (a manufacturer's report): the first day of any region is the floor
    earliest = min(first_covered_day(BOOK, code) or TODAY for code in BOOK.regions)  # Chongqing, 2019-03-20
    assert refusal(earliest, region=None) is None and refusal(date(2019, 3, 19), region=None) is not None
    # a region no profile covers (yet): nothing in it can be decided, whatever the day
    assert "110100 has no policy profile assigned" in (refusal(date(2026, 3, 1), region="110100") or "")


def test_a_unit_price_beyond_its_columns_range_is_refused() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(UnitPriceIn).validate_python("10000000000.0000")
    assert TypeAdapter(UnitPriceIn).validate_python("9999999999.9999") == Decimal("9999999999.9999")
