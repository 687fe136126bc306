"""Contract signing rules (given history / when command / then events)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_contracts.domain.contract import ProductTerms, SignContract, sign
from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import ContractSigned

PRODUCT = ProductTerms("P1", "M1", Decimal("0.1980"))


def _cmd(**changes: object) -> SignContract:
    values: dict[str, object] = dict(
        contract_id="C1", institution_id="H1", manufacturer_id="M1", distributor_id="D1", product_id="P1",
        unit_price=Decimal("0.1980"), agreed_quantity=12000, cycle_start=date(2026, 1, 1),
        cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
    )
    values.update(changes)
    return SignContract(**values)  # type: ignore[arg-type]


def test_signing_at_the_winning_price_records_contract_signed_with_the_region() -> None:
    [event] = sign([], _cmd(), PRODUCT, "520100")
    assert isinstance(event, ContractSigned)
    assert event.contract_id == "C1" and event.pooling_region_code == "520100" and event.agreed_quantity == 12000


def test_a_re_bargained_price_is_refused() -> None:
    with pytest.raises(DomainRuleViolated) as err:
        sign([], _cmd(unit_price=Decimal("0.1900")), PRODUCT, "520100")
    assert err.value.field == "unit_price"


def test_another_manufacturers_product_is_refused() -> None:
    with pytest.raises(DomainRuleViolated) as err:
        sign([], _cmd(manufacturer_id="M2"), PRODUCT, "520100")
    assert err.value.field == "manufacturer_id"


def test_cycle_must_end_after_it_starts() -> None:
    with pytest.raises(DomainRuleViolated) as err:
        sign([], _cmd(cycle_end=date(2025, 12, 31)), PRODUCT, "520100")
    assert err.value.field == "cycle_end"


def test_identical_retry_records_nothing_but_different_terms_conflict() -> None:
    history = sign([], _cmd(), PRODUCT, "520100")
    assert sign(history, _cmd(), PRODUCT, "520100") == []
    with pytest.raises(AlreadyExists):
        sign(history, _cmd(agreed_quantity=1), PRODUCT, "520100")
