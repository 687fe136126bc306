"""Invoices (收到发票): a distributor's invoice matched to the deliveries it bills.

Every line names an acceptance of the invoicing distributor at the invoiced
institution, bills at most what was accepted and not yet invoiced by other
invoices, at the contract's unit price; the invoice amount must equal the sum
of its line amounts (each quantity × unit price rounded to the fen, half up)
exactly. The invoice receipt date and the latest acceptance date are what the
payment deadline (R1) counts from.

Recording the same invoice again changes nothing; the same invoice id with
different content is a conflict.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_orders.domain.amounts import LARGEST_AMOUNT, line_amount
from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.events import InvoicedLine, InvoiceRecorded


@dataclass(frozen=True)
class AcceptanceView:
    """What invoicing needs to know of one recorded acceptance."""

    acceptance_id: str
    institution_id: str
    distributor_id: str
    contract_id: str
    pooling_region_code: str
    accepted_quantity: int
    invoiced_quantity: int
    unit_price: Decimal
    accepted_on: date
    returned_quantity: int = 0
    """Units given back (退货): no longer billable."""
    product_id: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    acceptance_id: str
    quantity: int


@dataclass(frozen=True)
class ReceiveInvoice:
    invoice_id: str
    invoice_number: str
    distributor_id: str
    institution_id: str
    issued_on: date
    received_on: date
    amount: Decimal
    lines: tuple[InvoiceLine, ...]
    replaces_invoice_id: str | None = None


class AmountMismatch(DomainRuleViolated):
    """The invoice amount is not the sum of its priced lines."""

    def __init__(self, expected: Decimal, given: Decimal) -> None:
        self.expected_amount = expected
        self.difference = given - expected
        super().__init__(
            "amount",
            f"must equal Σ quantity × unit_price = {expected} (each line rounded to the fen, half up); "
            f"the invoice says {given}, a difference of {self.difference}",
        )


def receive(
    history: Sequence[InvoiceRecorded], cmd: ReceiveInvoice, acceptances: Mapping[str, AcceptanceView]
) -> list[InvoiceRecorded]:
    """Decide: record ``cmd`` against the acceptances it names (as they stand now)."""
    if history:
        if submitted(history[0]) == cmd:
            return []
        raise AlreadyExists(f"invoice {cmd.invoice_id} is recorded already with different content")
    if cmd.received_on < cmd.issued_on:
        raise DomainRuleViolated(
            "received_on", f"the invoice cannot be received ({cmd.received_on}) before it is issued ({cmd.issued_on})"
        )
    if not cmd.lines:
        raise DomainRuleViolated("lines", "an invoice needs at least one line")
    lines = [_price(i, line, cmd, acceptances) for i, line in enumerate(cmd.lines)]
    _not_over_invoiced(cmd, acceptances)
    regions = {acceptances[line.acceptance_id].pooling_region_code for line in cmd.lines}
    if len(regions) > 1:
        raise DomainRuleViolated("lines", f"the lines' contracts lie in different pooling regions ({', '.join(sorted(regions))})")
    expected = sum((line.amount for line in lines), Decimal("0.00"))
    if expected > LARGEST_AMOUNT:
        raise DomainRuleViolated("lines", f"the invoice total {expected} exceeds the largest amount the platform records")
    if cmd.amount != expected:
        raise AmountMismatch(expected, cmd.amount)
    return [
        InvoiceRecorded(
            invoice_id=cmd.invoice_id,
            invoice_number=cmd.invoice_number,
            institution_id=cmd.institution_id,
            distributor_id=cmd.distributor_id,
            pooling_region_code=regions.pop(),
            issued_on=cmd.issued_on,
            received_on=cmd.received_on,
            amount=cmd.amount,
            lines=tuple(lines),
            latest_acceptance_on=max(line.accepted_on for line in lines),
            replaces_invoice_id=cmd.replaces_invoice_id,
        )
    ]


def _price(i: int, line: InvoiceLine, cmd: ReceiveInvoice, acceptances: Mapping[str, AcceptanceView]) -> InvoicedLine:
    field = f"lines[{i}]"
    view = acceptances.get(line.acceptance_id)
    if view is None:
        raise DomainRuleViolated(f"{field}.acceptance_id", f"no acceptance {line.acceptance_id} is recorded")
    if view.institution_id != cmd.institution_id:
        raise DomainRuleViolated(
            f"{field}.acceptance_id", f"acceptance {line.acceptance_id} is not one of institution {cmd.institution_id}"
        )
    if view.distributor_id != cmd.distributor_id:
        raise DomainRuleViolated(
            f"{field}.acceptance_id", f"acceptance {line.acceptance_id} was delivered under a contract of another distributor"
        )
    if line.quantity < 1:
        raise DomainRuleViolated(f"{field}.quantity", "must be at least 1")
    return InvoicedLine(
        acceptance_id=view.acceptance_id,
        contract_id=view.contract_id,
        quantity=line.quantity,
        unit_price=view.unit_price,
        amount=line_amount(line.quantity, view.unit_price),
        accepted_on=view.accepted_on,
    )


def _not_over_invoiced(cmd: ReceiveInvoice, acceptances: Mapping[str, AcceptanceView]) -> None:
    """Σ quantity per acceptance (over all lines naming it) ≤ accepted − returned − invoiced by other invoices."""
    billed: dict[str, int] = {}
    for i, line in enumerate(cmd.lines):
        billed[line.acceptance_id] = billed.get(line.acceptance_id, 0) + line.quantity
        view = acceptances[line.acceptance_id]
        remaining = max(view.accepted_quantity - view.returned_quantity - view.invoiced_quantity, 0)
        if billed[line.acceptance_id] > remaining:
            returned = f" ({view.returned_quantity} returned)" if view.returned_quantity else ""
            raise DomainRuleViolated(
                f"lines[{i}].quantity",
                f"acceptance {view.acceptance_id} has {remaining} of {view.accepted_quantity} accepted units{returned} not yet invoiced; "
                f"this invoice bills {billed[line.acceptance_id]}",
            )


def submitted(recorded: InvoiceRecorded) -> ReceiveInvoice:
    """The invoice as the distributor submitted it (what a repeated request is compared with)."""
    return ReceiveInvoice(
        invoice_id=recorded.invoice_id,
        invoice_number=recorded.invoice_number,
        distributor_id=recorded.distributor_id,
        institution_id=recorded.institution_id,
        issued_on=recorded.issued_on,
        received_on=recorded.received_on,
        amount=recorded.amount,
        lines=tuple(InvoiceLine(line.acceptance_id, line.quantity) for line in recorded.lines),
        replaces_invoice_id=recorded.replaces_invoice_id,
    )
