"""Filing purchases (备案采购): recorded once, and the year's amount against the profile's warning line (Liangjiang 002 §二(三), R7)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from jicai_events.rules import Conflict, RuleViolated
from jicai_orders.domain import filing
from jicai_policy import FilingPurchase, PolicyProfile, load_policy_book

CMD = filing.RecordFiling(
    filing_id="F1", institution_id="H1", generic_name="注射用头孢曲松钠", specification="1g", manufacturer_name="某药业",
    quantity=3, unit_price=Decimal("12.3456"), purchased_on=date(2026, 3, 2), filed_on=date(2026, 3, 1), reason="中选产品断供",
)


def test_a_filing_purchase_is_priced_half_up_and_recorded_once() -> None:
    [event] = filing.record([], CMD, "500099")
    assert (event.amount, event.pooling_region_code) == (Decimal("37.04"), "500099")
    assert filing.record([event], CMD, "500099") == []
    with pytest.raises(Conflict):
        filing.record([event], replace(CMD, quantity=4), "500099")


def test_an_institution_whose_region_is_unknown_is_refused() -> None:
    with pytest.raises(RuleViolated) as refused:
        filing.record([], CMD, None)
    assert refused.value.field == "institution_id"


@pytest.fixture(scope="module")
def liangjiang() -> PolicyProfile:
    return load_policy_book().profile_for("500099", date(2026, 12, 31))


def test_liangjiang_enables_the_line_but_leaves_its_amount_to_the_bureau(liangjiang: PolicyProfile) -> None:
    got = filing.standing(2026, Decimal("50000.00"), liangjiang)
    assert (got.warning_line_enabled, got.warning_line, got.over_line) == (True, None, None)
    assert (got.profile_id, got.profile_version) == ("chongqing-liangjiang-2023", 1)


@pytest.mark.parametrize(("amount", "over"), [("9999.99", False), ("10000.00", False), ("10000.01", True)])
def test_over_the_line_means_strictly_above_it(liangjiang: PolicyProfile, amount: str, over: bool) -> None:
    assert liangjiang.filing_purchase is not None
    rule = FilingPurchase(warning_line_enabled=True, amount_warning_line=Decimal("10000"), source=liangjiang.filing_purchase.source)
    got = filing.standing(2026, Decimal(amount), liangjiang.model_copy(update={"filing_purchase": rule}))
    assert (got.warning_line, got.over_line) == (Decimal("10000"), over)


def test_a_profile_without_a_filing_rule_has_no_line() -> None:
    guizhou = load_policy_book().profile_for("520100", date(2026, 12, 31))
    got = filing.standing(2026, Decimal("1.00"), guizhou)
    assert (got.warning_line_enabled, got.warning_line, got.over_line) == (False, None, None)
