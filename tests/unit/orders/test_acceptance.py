"""Acceptance decisions (given the line's stream and the contract / when a HIS line / then recorded, duplicate or rejected)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_orders.domain.acceptance import (
    CONFLICTING,
    AcceptanceLine,
    Accepted,
    Duplicate,
    Rejected,
    accept,
)
from jicai_orders.domain.contract import ContractView

CONTRACT = ContractView(
    contract_id="C1", institution_id="H1", pooling_region_code="520100", distributor_id="D1", manufacturer_id="M1",
    product_id="P1", unit_price=Decimal("2.0050"), agreed_quantity=1200,
    cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
)


def _line(**changes: object) -> AcceptanceLine:
    values: dict[str, object] = dict(
        external_id="RK-0001", contract_id="C1", accepted_quantity=5, rejected_quantity=0, rejection_reason=None,
        accepted_on=date(2026, 3, 2), lot_number="L2026A",
    )
    values.update(changes)
    return AcceptanceLine(**values)  # type: ignore[arg-type]


def _recorded(line: AcceptanceLine) -> Accepted:
    decision = accept([], "H1", line, CONTRACT)
    assert isinstance(decision, Accepted)
    return decision


def test_a_line_on_the_institutions_contract_is_recorded_with_the_contract_terms() -> None:
    event = _recorded(_line()).event
    assert event.acceptance_id == "H1:RK-0001"
    assert (event.contract_id, event.product_id, event.distributor_id, event.pooling_region_code) == ("C1", "P1", "D1", "520100")
    assert event.unit_price == Decimal("2.0050")
    assert event.accepted_on == date(2026, 3, 2) and event.lot_number == "L2026A"


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [(5, "10.03"), (1, "2.01"), (2, "4.01"), (0, "0.00")],  # 10.025 → 10.03 and 2.005 → 2.01: half up, not banker's
)
def test_the_accepted_amount_is_quantity_times_price_rounded_half_up_to_the_fen(quantity: int, amount: str) -> None:
    event = _recorded(_line(accepted_quantity=quantity, rejected_quantity=1, rejection_reason="破损")).event
    assert event.accepted_amount == Decimal(amount)
    assert str(event.accepted_amount) == amount


def test_rejected_units_are_recorded_with_their_reason() -> None:
    event = _recorded(_line(accepted_quantity=8, rejected_quantity=2, rejection_reason="外包装破损")).event
    assert (event.accepted_quantity, event.rejected_quantity, event.rejection_reason) == (8, 2, "外包装破损")
    assert event.accepted_amount == Decimal("16.04")


def test_the_same_line_pushed_again_is_a_duplicate() -> None:
    history = [_recorded(_line()).event]
    assert accept(history, "H1", _line(), CONTRACT) == Duplicate("H1:RK-0001")


@pytest.mark.parametrize(
    "changed",
    [{"accepted_quantity": 6}, {"accepted_on": date(2026, 3, 3)}, {"lot_number": "L2026B"}, {"contract_id": "C9"},
     {"rejected_quantity": 1, "rejection_reason": "破损"}],
)
def test_the_same_external_id_with_other_content_is_rejected_not_overwritten(changed: dict[str, object]) -> None:
    history = [_recorded(_line()).event]
    assert accept(history, "H1", _line(**changed), CONTRACT) == Rejected(CONFLICTING)
    assert CONFLICTING == "conflicts with the acceptance recorded earlier"


def test_a_repeat_stays_a_duplicate_even_if_the_contract_is_gone_or_repriced() -> None:
    history = [_recorded(_line()).event]
    assert accept(history, "H1", _line(), None) == Duplicate("H1:RK-0001")


def test_a_stream_name_clash_between_institutions_is_never_counted_as_a_duplicate() -> None:
    # "acceptance-H1-A-B" is also the stream of institution "H1-A", external id "B".
    other = ContractView(**{**CONTRACT.__dict__, "institution_id": "H1-A"})
    clashing = accept([], "H1-A", _line(external_id="B"), other)
    assert isinstance(clashing, Accepted)
    decision = accept([clashing.event], "H1", _line(external_id="A-B"), CONTRACT)
    assert isinstance(decision, Rejected) and "clashes" in decision.reason


def test_a_contract_orders_has_not_received_is_rejected_with_the_reason() -> None:
    decision = accept([], "H1", _line(contract_id="C404"), None)
    assert isinstance(decision, Rejected) and "C404" in decision.reason and "not known" in decision.reason


def test_another_institutions_contract_is_rejected() -> None:
    decision = accept([], "H2", _line(), CONTRACT)
    assert isinstance(decision, Rejected) and "not a contract of institution H2" in decision.reason


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2027, 1, 1)])
def test_an_acceptance_date_outside_the_contract_cycle_is_rejected(day: date) -> None:
    decision = accept([], "H1", _line(accepted_on=day), CONTRACT)
    assert isinstance(decision, Rejected) and "outside the contract cycle" in decision.reason


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 12, 31)])
def test_the_first_and_last_day_of_the_cycle_count(day: date) -> None:
    assert isinstance(accept([], "H1", _line(accepted_on=day), CONTRACT), Accepted)


def test_a_line_with_nothing_accepted_or_rejected_is_rejected() -> None:
    decision = accept([], "H1", _line(accepted_quantity=0, rejected_quantity=0), CONTRACT)
    assert isinstance(decision, Rejected) and "no delivery" in decision.reason


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rejected_units_need_a_reason(reason: str | None) -> None:
    decision = accept([], "H1", _line(rejected_quantity=3, rejection_reason=reason), CONTRACT)
    assert isinstance(decision, Rejected) and "rejection_reason" in decision.reason


def test_an_acceptance_id_longer_than_an_identifier_is_rejected() -> None:
    decision = accept([], "H1", _line(external_id="X" * 62), CONTRACT)
    assert isinstance(decision, Rejected) and "64" in decision.reason


def test_an_offline_acceptance_carries_its_channel_and_a_retry_must_repeat_it() -> None:
    offline = _recorded(_line(channel="offline")).event
    assert offline.channel == "offline" and _recorded(_line()).event.channel == "platform"
    assert accept([offline], "H1", _line(channel="offline"), CONTRACT) == Duplicate("H1:RK-0001")
    assert accept([offline], "H1", _line(), CONTRACT) == Rejected(CONFLICTING)
