"""Credit notes and voids (红冲): the arithmetic of what an invoice still asks for, and replacing a voided invoice."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from jicai_events.rules import Conflict, RuleViolated
from jicai_orders.domain import red_letter as rl
from jicai_orders.domain.events import InvoiceCredited, InvoicedLine, InvoiceEvent, InvoiceRecorded
from jicai_orders.domain.invoice import InvoiceLine, ReceiveInvoice

RECORDED = InvoiceRecorded(
    invoice_id="I1", invoice_number="No.1", institution_id="H1", distributor_id="D1", pooling_region_code="520100",
    issued_on=date(2026, 3, 10), received_on=date(2026, 3, 12), amount=Decimal("100.00"),
    lines=(InvoicedLine(acceptance_id="H1:A1", contract_id="C1", quantity=50, unit_price=Decimal("2.0000"), amount=Decimal("100.00"),
                        accepted_on=date(2026, 3, 2)),),
    latest_acceptance_on=date(2026, 3, 2),
)
CREDIT = rl.CreditInvoice("I1", "CN1", "No.-1", Decimal("30.00"), date(2026, 3, 20), "价格调整")
VOID = rl.VoidInvoice("I1", date(2026, 3, 20), "开票错误")
REPLACEMENT = ReceiveInvoice("I2", "No.2", "D1", "H1", date(2026, 3, 21), date(2026, 3, 23), Decimal("100.00"),
                             (InvoiceLine("H1:A1", 50),), replaces_invoice_id="I1")


def _after(*steps: list[InvoiceEvent]) -> list[InvoiceEvent]:
    history: list[InvoiceEvent] = [RECORDED]
    for step in steps:
        history += step
    return history


def test_credit_notes_reduce_what_the_invoice_asks_for_and_say_what_is_left() -> None:
    history = _after(rl.credit([RECORDED], CREDIT))
    [second] = rl.credit(history, replace(CREDIT, credit_note_id="CN2", amount=Decimal("70.00")))
    assert isinstance(second, InvoiceCredited) and second.invoice_amount_after == Decimal("0.00")
    state = rl.fold([*history, second])
    assert state is not None and (state.credited, state.current_amount) == (Decimal("100.00"), Decimal("0.00"))


@pytest.mark.parametrize(("amount", "ok"), [("0.00", False), ("-1.00", False), ("0.01", True), ("70.00", True), ("70.01", False)])
def test_a_credit_is_more_than_zero_and_at_most_what_is_still_asked(amount: str, ok: bool) -> None:
    history = _after(rl.credit([RECORDED], CREDIT))  # 70.00 left
    cmd = replace(CREDIT, credit_note_id="CN2", amount=Decimal(amount))
    if ok:
        assert rl.credit(history, cmd)
    else:
        with pytest.raises(RuleViolated) as refused:
            rl.credit(history, cmd)
        assert refused.value.field == "amount"


def test_a_credit_note_counts_once_by_its_id_and_cannot_precede_the_invoice() -> None:
    history = _after(rl.credit([RECORDED], CREDIT))
    assert rl.credit(history, CREDIT) == []
    with pytest.raises(Conflict):
        rl.credit(history, replace(CREDIT, amount=Decimal("31.00")))
    with pytest.raises(RuleViolated) as early:
        rl.credit([RECORDED], replace(CREDIT, received_on=date(2026, 3, 11)))
    assert early.value.field == "received_on"


def test_a_voided_invoice_asks_for_nothing_and_takes_no_credit_note() -> None:
    history = _after(rl.credit([RECORDED], CREDIT), rl.void([RECORDED], VOID))
    state = rl.fold(history)
    assert state is not None and state.current_amount == Decimal("0.00")
    assert rl.void(history, VOID) == []
    with pytest.raises(Conflict):
        rl.void(history, replace(VOID, reason="另一个原因"))
    with pytest.raises(Conflict, match="voided"):
        rl.credit(history, replace(CREDIT, credit_note_id="CN2"))


def test_only_a_voided_invoice_of_the_same_parties_is_replaced_and_only_once() -> None:
    with pytest.raises(RuleViolated, match="not voided"):
        rl.replace_with([RECORDED], REPLACEMENT)
    voided = _after(rl.void([RECORDED], VOID))
    with pytest.raises(RuleViolated, match="other parties"):
        rl.replace_with(voided, replace(REPLACEMENT, distributor_id="D2"))
    replaced = voided + rl.replace_with(voided, REPLACEMENT)
    assert rl.replace_with(replaced, REPLACEMENT) == []
    with pytest.raises(Conflict, match="replaced already by invoice I2"):
        rl.replace_with(replaced, replace(REPLACEMENT, invoice_id="I3"))
    with pytest.raises(RuleViolated, match="no invoice I1"):
        rl.replace_with([], REPLACEMENT)
