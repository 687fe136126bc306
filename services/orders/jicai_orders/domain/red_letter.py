"""Credit notes and voids (红冲) of a recorded invoice, and the replacement of a voided one.

A credit note (红字发票) reduces what the invoice asks for by an amount > 0
and at most what it still asks for; a void (全额红冲 / 作废) removes it all and
frees its accepted units to be invoiced again, typically by a replacement
invoice that names the voided one (``replaces_invoice_id``): same institution
and distributor, one replacement per voided invoice. Every step is
idempotent by its business id (credit note id; the invoice for a void).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.events import InvoiceCredited, InvoiceEvent, InvoiceRecorded, InvoiceReplaced, InvoiceVoided
from jicai_orders.domain.invoice import ReceiveInvoice

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CreditInvoice:
    invoice_id: str
    credit_note_id: str
    credit_note_number: str
    amount: Decimal
    received_on: date
    reason: str


@dataclass(frozen=True)
class VoidInvoice:
    invoice_id: str
    voided_on: date
    reason: str


@dataclass(frozen=True)
class InvoiceState:
    recorded: InvoiceRecorded
    credits: tuple[InvoiceCredited, ...] = ()
    voided: InvoiceVoided | None = None
    replaced_by: str | None = None

    @property
    def credited(self) -> Decimal:
        return sum((c.amount for c in self.credits), ZERO)

    @property
    def current_amount(self) -> Decimal:
        """What the invoice still asks for: nothing once voided."""
        return ZERO if self.voided else self.recorded.amount - self.credited


def fold(history: Sequence[InvoiceEvent]) -> InvoiceState | None:
    state: InvoiceState | None = None
    for event in history:
        if isinstance(event, InvoiceRecorded):
            state = InvoiceState(event)
        elif state is None:
            raise ValueError(f"{event.name} before the invoice was recorded")
        elif isinstance(event, InvoiceCredited):
            state = InvoiceState(state.recorded, (*state.credits, event), state.voided, state.replaced_by)
        elif isinstance(event, InvoiceVoided):
            state = InvoiceState(state.recorded, state.credits, event, state.replaced_by)
        else:
            state = InvoiceState(state.recorded, state.credits, state.voided, event.replaced_by_invoice_id)
    return state


def _state(history: Sequence[InvoiceEvent], invoice_id: str) -> InvoiceState:
    state = fold(history)
    if state is None:
        raise DomainRuleViolated("invoice_id", f"no invoice {invoice_id} is recorded")
    return state


def credit(history: Sequence[InvoiceEvent], cmd: CreditInvoice) -> list[InvoiceEvent]:
    """Decide a credit note against the invoice as it stands."""
    state = _state(history, cmd.invoice_id)
    earlier = next((c for c in state.credits if c.credit_note_id == cmd.credit_note_id), None)
    if earlier is not None:
        if _credit_submitted(earlier) == cmd:
            return []
        raise AlreadyExists(f"credit note {cmd.credit_note_id} is recorded already with different content")
    if state.voided is not None:
        raise AlreadyExists(f"invoice {cmd.invoice_id} is voided; it asks for nothing to credit")
    if cmd.amount <= ZERO:
        raise DomainRuleViolated("amount", "must be greater than 0")
    if cmd.amount > state.current_amount:
        raise DomainRuleViolated(
            "amount", f"{cmd.amount} is more than the {state.current_amount} invoice {cmd.invoice_id} still asks for "
            f"(original {state.recorded.amount}, credited {state.credited})",
        )
    if cmd.received_on < state.recorded.received_on:
        raise DomainRuleViolated("received_on", f"{cmd.received_on} is before the invoice was received ({state.recorded.received_on})")
    r = state.recorded
    return [
        InvoiceCredited(
            credit_note_id=cmd.credit_note_id, credit_note_number=cmd.credit_note_number, invoice_id=r.invoice_id,
            institution_id=r.institution_id, pooling_region_code=r.pooling_region_code, distributor_id=r.distributor_id,
            amount=cmd.amount, invoice_amount_after=state.current_amount - cmd.amount, received_on=cmd.received_on, reason=cmd.reason,
        )
    ]


def _credit_submitted(recorded: InvoiceCredited) -> CreditInvoice:
    return CreditInvoice(
        recorded.invoice_id, recorded.credit_note_id, recorded.credit_note_number, recorded.amount, recorded.received_on, recorded.reason
    )


def void(history: Sequence[InvoiceEvent], cmd: VoidInvoice) -> list[InvoiceEvent]:
    """Decide the void of the whole invoice."""
    state = _state(history, cmd.invoice_id)
    if state.voided is not None:
        if (state.voided.voided_on, state.voided.reason) == (cmd.voided_on, cmd.reason):
            return []
        raise AlreadyExists(f"invoice {cmd.invoice_id} was voided on {state.voided.voided_on} already")
    if cmd.voided_on < state.recorded.received_on:
        raise DomainRuleViolated("voided_on", f"{cmd.voided_on} is before the invoice was received ({state.recorded.received_on})")
    r = state.recorded
    return [
        InvoiceVoided(
            invoice_id=r.invoice_id, institution_id=r.institution_id, pooling_region_code=r.pooling_region_code,
            distributor_id=r.distributor_id, voided_on=cmd.voided_on, reason=cmd.reason,
        )
    ]


def replace_with(history: Sequence[InvoiceEvent], new: ReceiveInvoice) -> list[InvoiceEvent]:
    """Decide that ``new`` replaces the invoice of ``history``: it must be voided, of the same parties, not replaced yet."""
    old_id = new.replaces_invoice_id or ""
    state = fold(history)
    if state is None:
        raise DomainRuleViolated("replaces_invoice_id", f"no invoice {old_id} is recorded")
    r = state.recorded
    if (r.institution_id, r.distributor_id) != (new.institution_id, new.distributor_id):
        raise DomainRuleViolated("replaces_invoice_id", f"invoice {old_id} is between other parties ({r.institution_id}, {r.distributor_id})")
    if state.voided is None:
        raise DomainRuleViolated("replaces_invoice_id", f"invoice {old_id} is not voided; void it before replacing it")
    if state.replaced_by == new.invoice_id:
        return []
    if state.replaced_by is not None:
        raise AlreadyExists(f"invoice {old_id} is replaced already by invoice {state.replaced_by}")
    return [InvoiceReplaced(invoice_id=old_id, replaced_by_invoice_id=new.invoice_id)]
