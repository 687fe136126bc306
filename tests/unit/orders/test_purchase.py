"""Purchase decisions (given the line's stream, the product and the region / when a HIS line / then recorded, duplicate or rejected)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_orders.domain.events import ProductRecorded
from jicai_orders.domain.purchase import CONFLICTING, Duplicate, PurchaseLine, Recorded, Rejected, base_units, record
from jicai_orders.domain.reference import ProductView
from jicai_orders.domain.reference import record as remember

NON_WINNING = ProductView(product_id="NW1", winning=False, generic_group_id="G1", base_units_per_trading_unit=Decimal("14"))
WINNING = ProductView(product_id="P1", winning=True, generic_group_id="G1", base_units_per_trading_unit=Decimal("7"))
UNGROUPED = ProductView(product_id="P9", winning=True, generic_group_id=None, base_units_per_trading_unit=None)


def _line(**changes: object) -> PurchaseLine:
    values: dict[str, object] = dict(
        external_id="CG-1", product_id="NW1", quantity=3, unit_price=Decimal("4.3300"), purchased_on=date(2026, 3, 2),
        channel="platform",
    )
    values.update(changes)
    return PurchaseLine(**values)  # type: ignore[arg-type]


def _recorded(line: PurchaseLine, product: ProductView = NON_WINNING) -> Recorded:
    decision = record([], "H1", line, product, "520100")
    assert isinstance(decision, Recorded)
    return decision


def test_a_non_winning_purchase_is_converted_to_base_units_and_flagged_not_winning() -> None:
    event = _recorded(_line()).event
    assert (event.purchase_id, event.generic_group_id, event.winning, event.channel) == ("H1:CG-1", "G1", False, "platform")
    assert event.base_units == Decimal("42.0000")  # 3 boxes × 14 片
    assert event.amount == Decimal("12.99") and event.pooling_region_code == "520100"


def test_a_winning_product_bought_offline_is_recorded_as_offline() -> None:
    event = _recorded(_line(product_id="P1", channel="offline", quantity=2), WINNING).event
    assert (event.winning, event.channel, event.base_units) == (True, "offline", Decimal("14.0000"))


@pytest.mark.parametrize(
    ("quantity", "factor", "expected"),
    [(1, "7", "7"), (5, "0.5", "2.5"), (3, "1.3333", "3.9999"), (10**12, "9999.9999", "9999999900000000")],
)
def test_base_units_are_quantity_times_the_factor_exactly(quantity: int, factor: str, expected: str) -> None:
    assert base_units(quantity, Decimal(factor)) == Decimal(expected)


def test_the_same_line_again_is_a_duplicate_and_other_content_is_refused() -> None:
    first = _recorded(_line()).event
    assert record([first], "H1", _line(), NON_WINNING, "520100") == Duplicate("H1:CG-1")
    assert record([first], "H1", _line(quantity=4), NON_WINNING, "520100") == Rejected(CONFLICTING)


@pytest.mark.parametrize(
    ("line", "product", "region", "says"),
    [
        (_line(product_id="NOPE"), None, "520100", "unknown product NOPE"),
        (_line(product_id="P9", channel="offline"), UNGROUPED, "520100", "no generic group"),
        (_line(product_id="P1"), WINNING, "520100", "acceptance against its contract"),
        (_line(), NON_WINNING, None, "pooling region is unknown"),
        (_line(quantity=0), NON_WINNING, "520100", "at least 1"),
        (_line(external_id="X" * 62), NON_WINNING, "520100", "longer than 64"),
        (_line(quantity=10**12, unit_price=Decimal("9999999999.0000")), NON_WINNING, "520100", "largest amount"),
    ],
)
def test_lines_the_platform_cannot_place_are_rejected_with_the_reason(
    line: PurchaseLine, product: ProductView | None, region: str | None, says: str
) -> None:
    decision = record([], "H1", line, product, region)
    assert isinstance(decision, Rejected) and says in decision.reason


def test_a_clashing_stream_name_is_never_merged() -> None:
    theirs = record([], "H1-X", _line(external_id="CG"), NON_WINNING, "520100")
    assert isinstance(theirs, Recorded)
    mine = record([theirs.event], "H1", _line(external_id="X-CG"), NON_WINNING, "520100")
    assert isinstance(mine, Rejected) and "clashes" in mine.reason


def test_reference_data_is_remembered_once_and_the_owners_newer_word_wins() -> None:
    told = ProductRecorded(product_id="NW1", winning=False, generic_group_id="G1", base_units_per_trading_unit=Decimal("14"),
                           generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*14片")
    assert remember([], told) == [told]
    assert remember([told], told) == []
    newer = told.model_copy(update={"base_units_per_trading_unit": Decimal("28")})
    assert remember([told], newer) == [newer]
