"""Use cases of the payment standard (医保支付标准, R6): answer per region, group and product; decide on dearer products.

The answer is computed from the listed products and the region's profile; the decision
(``NonWinningProductPricedAbovePaymentStandard``) is taken for the region of the group's batch under the profile
the batch was published with, once the three facts it needs are recorded, in any order: the non-winning product
with its price, a winning product of its group with its price, and the published batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters.tables import batches, generic_groups, non_winning_products, products
from jicai_contracts.domain import payment_standard as ps
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.generic_group import product_stream
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook, PolicyProfile
from jicai_policy.errors import NoProfileForRegion


class Unknown(LookupError):
    """The product or generic group asked about is not listed."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(what, key)
        self.what, self.key = what, key


@dataclass(frozen=True)
class GroupStandards:
    """The payment standards of a group's products in one region, with the profile that set them."""

    pooling_region_code: str
    profile: PolicyProfile
    group: dict[str, Any]
    standards: list[ps.Standard]


async def _group(uow: UnitOfWork, group_id: str) -> list[ps.Product]:
    winning = await repo.list_rows(uow, products, generic_group_id=group_id)
    others = await repo.list_rows(uow, non_winning_products, generic_group_id=group_id)
    return [
        *(ps.Product(r["product_id"], True, r["winning_unit_price"], r["base_units_per_trading_unit"]) for r in winning),
        *(ps.Product(r["product_id"], False, r["reference_unit_price"], r["base_units_per_trading_unit"]) for r in others),
    ]


async def standards(
    uow: UnitOfWork, book: PolicyBook, pooling_region_code: str, on: date, generic_group_id: str | None, product_id: str | None
) -> GroupStandards:
    """The payment standards of a group's products (or of one product) under the region's profile on ``on``."""
    try:
        profile = book.profile_for(pooling_region_code, on)
    except NoProfileForRegion as exc:
        raise DomainRuleViolated("pooling_region_code", str(exc)) from None
    if profile.payment_standard is None:
        raise DomainRuleViolated("pooling_region_code", f"pooling region {pooling_region_code} follows {profile.profile_id} "
                                                        f"v{profile.version} on {on}, which sets no payment standard (医保支付标准)")
    if product_id is not None:
        row = await repo.find(uow, products, product_id) or await repo.find(uow, non_winning_products, product_id)
        if row is None:
            raise Unknown("product", product_id)
        if row["generic_group_id"] is None:
            raise DomainRuleViolated("product_id", f"product {product_id} is in no generic group: the standard is set per group")
        if generic_group_id is not None and generic_group_id != row["generic_group_id"]:
            raise DomainRuleViolated("generic_group_id", f"product {product_id} is in generic group {row['generic_group_id']}")
        generic_group_id = row["generic_group_id"]
    if generic_group_id is None:
        raise DomainRuleViolated("generic_group_id", "name a generic group or a product")
    group = await repo.find(uow, generic_groups, generic_group_id)
    if group is None:
        raise Unknown("generic group", generic_group_id)
    listed = await _group(uow, generic_group_id)
    chosen = [p for p in listed if product_id is None or p.product_id == product_id]
    return GroupStandards(pooling_region_code, profile, group, [ps.standard(p, listed, profile.payment_standard) for p in chosen])


async def decide_group(uow: UnitOfWork, group_id: str | None, book: PolicyBook) -> None:
    """Record the decision for each dearer non-winning product of the group, once its batch is published."""
    group = await repo.find(uow, generic_groups, group_id) if group_id else None
    batch = await repo.find(uow, batches, group["batch_id"]) if group else None
    if group is None or batch is None:
        return  # the region (the batch's) is known only once the batch is published; that publication decides then
    profile = book.get(batch["profile_id"], batch["profile_version"])
    listed = await _group(uow, group["group_id"])
    for product in listed:
        if product.winning:
            continue
        stream_id = product_stream(product.product_id)
        history, version = await repo.streams.load(uow, stream_id)
        new = ps.decide_dearer(history, product, listed, group["group_id"], batch["batch_id"], batch["pooling_region_code"], profile)
        await repo.streams.append(uow, stream_id, "product", version, new)


async def decide_batch(uow: UnitOfWork, batch_id: str, book: PolicyBook) -> None:
    """A published batch gives its groups' products a region: decide for each group of the batch."""
    for group in await repo.list_rows(uow, generic_groups, batch_id=batch_id):
        await decide_group(uow, group["group_id"], book)
