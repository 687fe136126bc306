"""HTTP API of the insurance payment standard (医保支付标准, R6) of a generic group's products in a pooling region."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from jicai_contracts.adapters.policy import policy_book
from jicai_contracts.application import payment_standards
from jicai_contracts.domain import payment_standard as ps
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_events.types import BUSINESS_TZ, Identifier
from jicai_kit.auth import Caller
from jicai_kit.commands import query
from jicai_kit.problems import invalid, not_found

router = APIRouter(tags=["payment standards"])


class PaymentStandardOut(BaseModel):
    pooling_region_code: str
    on: date = Field(description="the day whose profile applies")
    generic_group_id: str
    base_unit: str = Field(description="the group's base unit prices compare in (片, 支)")
    product_id: str
    winning: bool = Field(description="中选药品 (else 非中选)")
    unit_price: Decimal | None = Field(description="winning price, or the non-winning product's listed 挂网 price, per trading unit")
    base_units_per_trading_unit: Decimal
    price_per_base_unit: Decimal | None
    group_payment_standard_per_base_unit: Decimal | None = Field(description="the group's standard: the highest winning price per base unit")
    basis: ps.Basis = Field(description="winning_price | actual_price (按实际价格支付) | group_standard (the excess is self-paid) | "
                                        "none_set (the notice sets none; the self-pay ratio rises) | price_unknown")
    payment_standard_per_trading_unit: Decimal | None = Field(description="医保支付标准 of one trading unit of this product")
    dearer: bool | None = Field(description="non-winning and priced above the group's standard; null with nothing to compare")
    patient_pays_per_trading_unit: Decimal | None = Field(description="the excess over the standard the patient pays (患者自付)")
    first_self_pay_ratio_increase: Decimal | None = Field(description="added to the patient's first self-pay ratio (个人首先自付比例)")
    profile_id: str
    profile_version: int
    source: str = Field(description="the notice section the profile's payment standard cites")


@router.get("/payment-standards", response_model=list[PaymentStandardOut])
async def payment_standards_in_region(
    caller: Caller, request: Request,
    pooling_region_code: Annotated[str, Query(pattern=r"^\d{6}$", description="the 统筹区 whose profile applies")],
    generic_group_id: Annotated[Identifier | None, Query(description="every product of this group")] = None,
    product_id: Annotated[Identifier | None, Query(description="only this product (winning or non-winning)")] = None,
    on: Annotated[date | None, Query(description="the day whose profile applies; today (Asia/Shanghai) if omitted")] = None,
) -> list[PaymentStandardOut]:
    """The payment standard (医保支付标准, R6) of each product of a generic group, or of one product, under the region's profile:
    winning products at the winning price; non-winning ones at their price up to the group's standard, and above it what
    the profile says (the patient pays the excess, or the first self-pay ratio rises). Products are reference data: every
    authenticated party may read them."""
    day = on or datetime.now(BUSINESS_TZ).date()
    book = policy_book()
    try:
        found = await query(request.app.state.runtime, lambda uow: payment_standards.standards(
            uow, book, pooling_region_code, day, generic_group_id, product_id))
    except DomainRuleViolated as exc:
        raise invalid(exc.field, exc.reason) from exc
    except payment_standards.Unknown as exc:
        raise not_found(exc.what, exc.key) from exc
    rules = found.profile.payment_standard
    assert rules is not None  # refused above otherwise
    return [
        PaymentStandardOut(
            pooling_region_code=pooling_region_code, on=day, generic_group_id=found.group["group_id"], base_unit=found.group["base_unit"],
            product_id=x.product.product_id, winning=x.product.winning, unit_price=x.product.unit_price,
            base_units_per_trading_unit=x.product.base_units_per_trading_unit, price_per_base_unit=x.price_per_base_unit,
            group_payment_standard_per_base_unit=x.group_standard_per_base_unit, basis=x.basis,
            payment_standard_per_trading_unit=x.standard_per_trading_unit, dearer=x.dearer,
            patient_pays_per_trading_unit=x.patient_pays_per_trading_unit, first_self_pay_ratio_increase=x.first_self_pay_ratio_increase,
            profile_id=found.profile.profile_id, profile_version=found.profile.version, source=rules.source,
        )
        for x in found.standards
    ]
