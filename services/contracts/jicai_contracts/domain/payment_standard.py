"""Insurance payment standard (医保支付标准, R6) of the products of a generic group, under a region's profile.

- Chongqing 004 §二(四), Hubei 003 §四(四) (and Guizhou 000 §五(五), whose profile does not carry the
  section yet): the winning price (中选价格) is the payment standard of the generic name; the patient pays
  what a dearer product costs above it (超出支付标准的部分由患者自付, ``patient_pays_excess``); a cheaper one
  is paid at its actual price (按实际价格支付).
- Shandong 001 §五: winning products at the winning price; a non-winning product priced at or below the
  winning price of its group (同评审组) at its actual price; one priced above it raises the patient's first
  self-pay ratio (个人首先自付比例) by ``dearer_non_winning_self_pay_increase`` (10 points); the notice sets
  no standard for it.

Prices compare per base unit of the group (片, 支): a box of 14 at 21.00 costs 1.50 a tablet, dearer than a
winning box of 7 at 7.00. When several products of a group won (多家中选), the notices speak of "the"
winning price and none says which: a non-winning product is dearer only when it costs more per base unit
than every winning product, so the group's standard is the highest winning price per base unit. Prices
compare exactly (as fractions); what is shown is rounded to 4 places (half up), as unit prices are.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from jicai_contracts.domain.events import ContractsEvent, NonWinningProductPricedAbovePaymentStandard
from jicai_policy.profiles import PolicyProfile
from jicai_policy.sections.fund import PaymentStandard

FOUR_PLACES = Decimal("0.0001")


class Basis(StrEnum):
    """Why a product's payment standard is what it is."""

    WINNING_PRICE = "winning_price"
    """A winning product: its winning price (中选价格作为医保支付标准)."""
    ACTUAL_PRICE = "actual_price"
    """Priced at or below the group's standard: paid at its actual price (按实际价格支付)."""
    GROUP_STANDARD = "group_standard"
    """Dearer: the group's standard; the patient pays the excess (超出支付标准的部分由患者自付)."""
    NONE_SET = "none_set"
    """Dearer, under a notice that sets no standard for it (Shandong 001 §五: the self-pay ratio rises instead)."""
    PRICE_UNKNOWN = "price_unknown"
    """A non-winning product listed without a price, or a group without a priced winning product: nothing to compare."""


@dataclass(frozen=True)
class Product:
    """A product of a generic group as listed: price per trading unit and base units in one trading unit."""

    product_id: str
    winning: bool
    unit_price: Decimal | None
    base_units_per_trading_unit: Decimal

    @property
    def per_base_unit(self) -> Fraction | None:
        return None if self.unit_price is None else Fraction(self.unit_price) / Fraction(self.base_units_per_trading_unit)


@dataclass(frozen=True)
class Standard:
    """One product's payment standard under one profile."""

    product: Product
    basis: Basis
    group_standard_per_base_unit: Decimal | None
    """The group's payment standard: the (highest) winning price per base unit."""
    price_per_base_unit: Decimal | None
    standard_per_trading_unit: Decimal | None
    """What the fund's standard is for one trading unit of this product; none where the notice sets none."""
    dearer: bool | None
    """Non-winning and priced above the group's standard per base unit; None when there is nothing to compare."""
    patient_pays_per_trading_unit: Decimal | None
    """The excess over the standard the patient pays (患者自付), where the profile says so."""
    first_self_pay_ratio_increase: Decimal | None
    """Points (as a ratio) added to the patient's first self-pay ratio, where the profile says so."""
    rules: PaymentStandard


def _shown(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def group_standard(products: Sequence[Product], rules: PaymentStandard) -> Fraction | None:
    """The group's payment standard per base unit: the highest winning price per base unit (None without one)."""
    if not rules.winning_price_is_standard:
        return None
    prices = [p.per_base_unit for p in products if p.winning and p.per_base_unit is not None]
    return max((p for p in prices if p is not None), default=None)


def standard(product: Product, group: Sequence[Product], rules: PaymentStandard) -> Standard:
    """The payment standard of ``product``, one of the products of its generic group ``group``, under ``rules``."""
    ceiling = group_standard(group, rules)
    price = product.per_base_unit

    def answer(basis: Basis, per_trading_unit: Decimal | None, dearer: bool | None, patient_pays: Decimal | None = None,
               increase: Decimal | None = None) -> Standard:
        return Standard(product, basis, None if ceiling is None else _shown(ceiling), None if price is None else _shown(price),
                        per_trading_unit, dearer, patient_pays, increase, rules)

    if product.winning and product.unit_price is not None:
        return answer(Basis.WINNING_PRICE, product.unit_price, False)
    if price is None or ceiling is None:
        return answer(Basis.PRICE_UNKNOWN, None, None)
    if price <= ceiling:
        return answer(Basis.ACTUAL_PRICE, product.unit_price, False)
    assert product.unit_price is not None  # a price per base unit comes from one
    increase = rules.dearer_non_winning_self_pay_increase
    if not rules.patient_pays_excess:
        return answer(Basis.NONE_SET, None, True, None, increase)
    capped = _shown(ceiling * Fraction(product.base_units_per_trading_unit))
    return answer(Basis.GROUP_STANDARD, capped, True, product.unit_price - capped, increase)


def decision_id(product_id: str) -> str:
    return f"dearer-{product_id}"


def decide_dearer(
    history: Sequence[ContractsEvent], product: Product, group: Sequence[Product], generic_group_id: str, batch_id: str,
    pooling_region_code: str, profile: PolicyProfile,
) -> list[ContractsEvent]:
    """Decide, once per non-winning product: record that its price is above its group's payment standard in the batch's region.

    Nothing when the profile has no payment standard, the product is not dearer (or has no price to compare), or
    the decision is recorded already.
    """
    rules = profile.payment_standard
    if rules is None or product.winning or any(isinstance(e, NonWinningProductPricedAbovePaymentStandard) for e in history):
        return []
    answer = standard(product, group, rules)
    if not answer.dearer:
        return []
    assert product.unit_price is not None and answer.price_per_base_unit is not None
    assert answer.group_standard_per_base_unit is not None
    return [
        NonWinningProductPricedAbovePaymentStandard(
            decision_id=decision_id(product.product_id), product_id=product.product_id, generic_group_id=generic_group_id,
            batch_id=batch_id, pooling_region_code=pooling_region_code, profile_id=profile.profile_id, profile_version=profile.version,
            source=rules.source, unit_price=product.unit_price, base_units_per_trading_unit=product.base_units_per_trading_unit,
            price_per_base_unit=answer.price_per_base_unit, payment_standard_per_base_unit=answer.group_standard_per_base_unit,
            payment_standard_per_trading_unit=answer.standard_per_trading_unit,
            patient_pays_per_trading_unit=answer.patient_pays_per_trading_unit,
            first_self_pay_ratio_increase=answer.first_self_pay_ratio_increase,
        )
    ]
