"""Payments (回款): an institution pays a distributor, allocated to one or more invoices.

Partial payment is allowed and reduces what is owed; overpayment is refused,
so an invoice is never paid beyond its amount. Every refusal names the input
at fault (``allocations[1].amount``) and records nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from jicai_policy import DirectSettlement, PolicyProfile
from jicai_policy.errors import PolicyError
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import Allocation, InvoicePaymentApplied, PaymentEvent, PaymentRecorded
from jicai_settlement.domain.invoice import InvoiceView


@dataclass(frozen=True)
class AllocationIn:
    invoice_id: str
    amount: Decimal


@dataclass(frozen=True)
class RecordPayment:
    payment_id: str
    institution_id: str
    distributor_id: str
    paid_on: date
    amount: Decimal
    allocations: tuple[AllocationIn, ...]
    reference: str | None = None
    payer: Literal["institution", "insurance_fund"] = "institution"
    """insurance_fund: direct settlement (直接结算), the fund pays the distributor for the institution."""

    def recorded(self) -> PaymentRecorded:
        return PaymentRecorded(
            payment_id=self.payment_id,
            institution_id=self.institution_id,
            distributor_id=self.distributor_id,
            paid_on=self.paid_on,
            amount=self.amount,
            allocations=tuple(Allocation(invoice_id=a.invoice_id, amount=a.amount) for a in self.allocations),
            reference=self.reference,
            payer=self.payer,
        )


def record(
    history: Sequence[PaymentEvent], cmd: RecordPayment, invoices: Mapping[str, InvoiceView | None], profile_of: ProfileOf | None = None,
) -> list[PaymentRecorded | InvoicePaymentApplied]:
    """Decide: the events recording ``cmd`` given the payment's stream and the invoices it pays.

    ``invoices`` maps each allocated invoice id to its current view (None:
    settlement has not received it). An identical retry records nothing; the
    same payment id with other content is a conflict. A direct settlement
    (payer ``insurance_fund``) needs ``profile_of`` and is refused for an invoice
    whose pooling region's profile does not allow it.
    """
    recorded = cmd.recorded()
    if history:
        if history[0] == recorded:
            return []
        raise AlreadyExists(f"payment {cmd.payment_id} was recorded already with different content")
    _check_amounts(cmd)
    for i, allocation in enumerate(cmd.allocations):
        invoice = invoices.get(allocation.invoice_id)
        _check_invoice(f"allocations[{i}]", cmd, allocation, invoice)
        if cmd.payer == "insurance_fund" and invoice is not None:
            direct_settlement(f"allocations[{i}].invoice_id", invoice, cmd.paid_on, profile_of)
    applied = [
        InvoicePaymentApplied(invoice_id=a.invoice_id, payment_id=cmd.payment_id, amount=a.amount, paid_on=cmd.paid_on)
        for a in cmd.allocations
    ]
    return [recorded, *applied]


def _check_amounts(cmd: RecordPayment) -> None:
    if cmd.amount <= 0:
        raise DomainRuleViolated("amount", "must be positive")
    if not cmd.allocations:
        raise DomainRuleViolated("allocations", "must allocate the payment to at least one invoice")
    seen: dict[str, int] = {}
    for i, allocation in enumerate(cmd.allocations):
        if allocation.amount <= 0:
            raise DomainRuleViolated(f"allocations[{i}].amount", "must be positive")
        if allocation.invoice_id in seen:
            raise DomainRuleViolated(
                f"allocations[{i}].invoice_id",
                f"invoice {allocation.invoice_id} is allocated twice (also allocations[{seen[allocation.invoice_id]}])",
            )
        seen[allocation.invoice_id] = i
    total = sum((a.amount for a in cmd.allocations), Decimal("0.00"))
    if total != cmd.amount:
        raise DomainRuleViolated("allocations", f"allocations sum to {total} but the payment amount is {cmd.amount}")


def _check_invoice(path: str, cmd: RecordPayment, allocation: AllocationIn, invoice: InvoiceView | None) -> None:
    if invoice is None:
        raise DomainRuleViolated(
            f"{path}.invoice_id",
            f"invoice {allocation.invoice_id} is unknown: settlement has not received it (InvoiceReceived) yet",
        )
    if invoice.institution_id != cmd.institution_id:
        raise DomainRuleViolated(
            f"{path}.invoice_id", f"invoice {allocation.invoice_id} is not an invoice of institution {cmd.institution_id}"
        )
    if invoice.distributor_id != cmd.distributor_id:
        raise DomainRuleViolated(
            f"{path}.invoice_id",
            f"invoice {allocation.invoice_id} was issued by distributor {invoice.distributor_id}, not {cmd.distributor_id}",
        )
    if allocation.amount > invoice.outstanding:
        raise DomainRuleViolated(
            f"{path}.amount",
            f"{allocation.amount} exceeds the outstanding {invoice.outstanding} of invoice {allocation.invoice_id} "
            f"(amount {invoice.amount}{_credited(invoice)}, paid {invoice.paid}); overpayment is refused",
        )


def _credited(invoice: InvoiceView) -> str:
    if invoice.voided_on is not None:
        return f", voided on {invoice.voided_on} (红冲)"
    return f", {invoice.due} after credit notes (红冲)" if invoice.due != invoice.amount else ""


ProfileOf = Callable[[str, date], PolicyProfile]


def direct_settlement(path: str, invoice: InvoiceView, on: date, profile_of: ProfileOf | None) -> DirectSettlement:
    """The profile's direct settlement (直接结算) section for the invoice's pooling region; refused unless it allows it."""
    if invoice.pooling_region_code is None or profile_of is None:
        raise DomainRuleViolated(path, f"the pooling region of invoice {invoice.invoice_id} is unknown: direct settlement needs its profile")
    try:
        profile = profile_of(invoice.pooling_region_code, on)
    except PolicyError as exc:
        raise DomainRuleViolated(path, str(exc)) from exc
    section = profile.direct_settlement
    if section is None or not section.allowed:
        why = "has no direct settlement section" if section is None else f"does not allow it yet (stage {section.stage}, {section.source})"
        raise DomainRuleViolated(
            path,
            f"direct settlement (直接结算) of invoice {invoice.invoice_id} is refused: profile {profile.profile_id} "
            f"v{profile.version} of pooling region {invoice.pooling_region_code} {why}",
        )
    return section
