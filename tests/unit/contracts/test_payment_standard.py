"""R6 payment standard (医保支付标准) per profile: given a generic group's products and a region / then each product's standard.

The group: winning P1, a box of 7 片 at 7.00 → 1.00 a tablet. Prices compare per base unit.
- Shandong 001 §五: "价格低于或等于同评审组中选价格的非中选药品，以实际价格作为支付标准；价格高于同评审组中选价格的非中选药品，
  各统筹地区将医保个人首先自付比例提高10个百分点" (no standard set for the dearer one, no excess rule).
- Hubei 003 §四(四), Chongqing 004 §二(四): "以集中采购价格作为医保支付标准 … 患者使用价格高于支付标准的药品，超出支付标准的部分由
  患者自付 … 患者使用价格低于支付标准的药品，按实际价格支付".
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_contracts.domain import payment_standard as ps
from jicai_contracts.domain.events import NonWinningProductPricedAbovePaymentStandard
from jicai_policy import PolicyBook, PolicyProfile, load_policy_book

JINAN, WUHAN, CHONGQING, GUIYANG = "370100", "420100", "500000", "520100"
WINNING = ps.Product("P1", True, Decimal("7.00"), Decimal("7"))


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return load_policy_book(calendar_overrides=())


def profile(book: PolicyBook, region: str) -> PolicyProfile:
    return book.profile_for(region, date(2026, 1, 1))


def non_winning(price: str | None, box: str = "14") -> ps.Product:
    return ps.Product("NW1", False, None if price is None else Decimal(price), Decimal(box))


Row = tuple[str, str | None, bool | None, str | None, str | None]
"""(basis, standard per box, dearer, patient pays per box, first self-pay increase)."""


@pytest.mark.parametrize(
    ("region", "product", "expected"),
    [
        pytest.param(JINAN, WINNING, ("winning_price", "7.00", False, None, None), id="Shandong 001 §五: winning at the winning price"),
        pytest.param(JINAN, non_winning("12.60"), ("actual_price", "12.60", False, None, None), id="Shandong 001 §五: cheaper, its price"),
        pytest.param(JINAN, non_winning("14.00"), ("actual_price", "14.00", False, None, None), id="Shandong 001 §五: equal, its price"),
        pytest.param(JINAN, non_winning("21.00"), ("none_set", None, True, None, "0.10"), id="Shandong 001 §五: dearer, +10 points"),
        pytest.param(WUHAN, non_winning("12.60"), ("actual_price", "12.60", False, None, None), id="Hubei 003 §四(四): cheaper"),
        pytest.param(WUHAN, non_winning("21.00"), ("group_standard", "14.0000", True, "7.0000", None), id="Hubei 003 §四(四): excess self-paid"),
        pytest.param(CHONGQING, WINNING, ("winning_price", "7.00", False, None, None), id="Chongqing 004 §二(四): winning"),
        pytest.param(CHONGQING, non_winning("21.00"), ("group_standard", "14.0000", True, "7.0000", None), id="Chongqing 004 §二(四): dearer"),
        pytest.param(JINAN, non_winning("27.00", box="28"), ("actual_price", "27.00", False, None, None),
                     id="a dearer box of 28 is cheaper a tablet (0.9643)"),
        pytest.param(JINAN, non_winning(None), ("price_unknown", None, None, None, None), id="listed without a price: nothing to compare"),
    ],
)
def test_the_standard_of_each_product_under_each_profile(book: PolicyBook, region: str, product: ps.Product, expected: Row) -> None:
    rules = profile(book, region).payment_standard
    assert rules is not None
    x = ps.standard(product, [WINNING, product], rules)
    shown = [None if v is None else str(v) for v in (x.standard_per_trading_unit, x.patient_pays_per_trading_unit, x.first_self_pay_ratio_increase)]
    assert (x.basis.value, shown[0], x.dearer, shown[1], shown[2]) == expected
    assert x.group_standard_per_base_unit == Decimal("1.0000")


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        pytest.param(WINNING, ("winning_price", "7.00", False, None, None), id="winning: the winning price"),
        pytest.param(non_winning("12.60"), ("actual_price", "12.60", False, None, None), id="cheaper: its actual price (按实际价格支付)"),
        pytest.param(non_winning("21.00"), ("group_standard", "14.0000", True, "7.0000", None), id="dearer: the excess is self-paid, no ratio raise"),
    ],
)
def test_guizhou_version_2_sets_the_standard_of_000_section_5_5_from_2027(book: PolicyBook, product: ps.Product, expected: Row) -> None:
    """Guizhou 000 §五(五) as version 2 transcribes it: the winning price is the standard, the excess is self-paid; the notice is
    silent on raising the first self-pay ratio, so nothing is raised. Version 1 (until 2026-12-31) carries no standard."""
    assert book.profile_for(GUIYANG, date(2026, 12, 31)).payment_standard is None
    guizhou = book.profile_for(GUIYANG, date(2027, 1, 1))
    assert (guizhou.profile_id, guizhou.version) == ("guizhou-2020", 2)
    assert guizhou.payment_standard is not None and guizhou.payment_standard.dearer_non_winning_self_pay_increase is None
    x = ps.standard(product, [WINNING, product], guizhou.payment_standard)
    shown = [None if v is None else str(v) for v in (x.standard_per_trading_unit, x.patient_pays_per_trading_unit, x.first_self_pay_ratio_increase)]
    assert (x.basis.value, shown[0], x.dearer, shown[1], shown[2]) == expected
    assert guizhou.model_dump(exclude={"version", "payment_standard"}) == book.get("guizhou-2020", 1).model_dump(exclude={"version", "payment_standard"})


def test_with_several_winners_a_non_winning_product_is_dearer_only_above_the_dearest_winner(book: PolicyBook) -> None:
    rules = profile(book, WUHAN).payment_standard
    assert rules is not None
    second = ps.Product("P2", True, Decimal("12.00"), Decimal("10"))  # 1.20 a tablet
    within, above = non_winning("15.40"), non_winning("18.20")  # 1.10 and 1.30 a tablet
    assert ps.standard(within, [WINNING, second, within], rules).dearer is False
    dearer = ps.standard(above, [WINNING, second, above], rules)
    assert (dearer.group_standard_per_base_unit, dearer.standard_per_trading_unit, dearer.patient_pays_per_trading_unit) == (
        Decimal("1.2000"), Decimal("16.8000"), Decimal("1.4000"))


def test_a_group_without_a_priced_winning_product_has_no_standard(book: PolicyBook) -> None:
    rules = profile(book, JINAN).payment_standard
    assert rules is not None
    x = ps.standard(non_winning("21.00"), [non_winning("21.00")], rules)
    assert (x.basis, x.dearer, x.group_standard_per_base_unit) == (ps.Basis.PRICE_UNKNOWN, None, None)


def decide(book: PolicyBook, region: str, product: ps.Product, history: list = []) -> list:  # type: ignore[type-arg]  # noqa: B006
    return ps.decide_dearer(history, product, [WINNING, product], "G1", "SD-YPDL2020-1", region, profile(book, region))


def test_shandong_records_once_that_a_dearer_non_winning_product_raises_the_first_self_pay_ratio(book: PolicyBook) -> None:
    [decided] = decide(book, JINAN, non_winning("21.00"))
    assert isinstance(decided, NonWinningProductPricedAbovePaymentStandard)
    assert (decided.decision_id, decided.profile_id, decided.profile_version, decided.source) == (
        "dearer-NW1", "shandong-2021", 1, "001_450b5b2068b38bb5.txt §五")
    assert (decided.price_per_base_unit, decided.payment_standard_per_base_unit) == (Decimal("1.5000"), Decimal("1.0000"))
    assert (decided.first_self_pay_ratio_increase, decided.payment_standard_per_trading_unit) == (Decimal("0.10"), None)
    assert decide(book, JINAN, non_winning("21.00"), [decided]) == []


def test_hubei_records_the_excess_the_patient_pays(book: PolicyBook) -> None:
    [decided] = decide(book, WUHAN, non_winning("21.00"))
    assert isinstance(decided, NonWinningProductPricedAbovePaymentStandard)
    assert (decided.payment_standard_per_trading_unit, decided.patient_pays_per_trading_unit) == (Decimal("14.0000"), Decimal("7.0000"))
    assert (decided.first_self_pay_ratio_increase, decided.source) == (None, "003_5bdb581359ce1a93.txt §四(四)")


@pytest.mark.parametrize(
    ("region", "product"),
    [
        pytest.param(JINAN, non_winning("14.00"), id="not dearer"),
        pytest.param(JINAN, non_winning(None), id="no price"),
        pytest.param(JINAN, WINNING, id="a winning product"),
        pytest.param(GUIYANG, non_winning("21.00"), id="guizhou-2020 carries no payment standard"),
    ],
)
def test_nothing_is_decided_without_a_dearer_non_winning_product_under_a_payment_standard(
    book: PolicyBook, region: str, product: ps.Product
) -> None:
    assert decide(book, region, product) == []
