"""Read models of the settlement service, folded from its domain events."""
from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_settlement.adapters import tables as t
from jicai_settlement.domain import events as e


@singledispatch
async def project(event: object, session: AsyncSession) -> None:
    raise TypeError(f"no projection for {type(event).__name__}")


@project.register
async def _(event: e.InvoiceRecorded, session: AsyncSession) -> None:
    await invoices_recorded(session, [event])


async def invoices_recorded(session: AsyncSession, events: Sequence[e.SettlementEvent]) -> None:
    """Many ``InvoiceRecorded`` at once (a rebuild replays them by the thousand): their rows in one executemany."""
    rows = [{**event.model_dump(), "paid": 0, "amount_due": event.amount} for event in events if isinstance(event, e.InvoiceRecorded)]
    await session.execute(insert(t.invoices), rows)


@project.register
async def _(event: e.InvoiceCreditApplied, session: AsyncSession) -> None:
    await session.execute(insert(t.invoice_credits).values(**event.model_dump()))
    await session.execute(update(t.invoices).where(t.invoices.c.invoice_id == event.invoice_id).values(amount_due=event.amount_after))


@project.register
async def _(event: e.InvoiceVoidRecorded, session: AsyncSession) -> None:
    await session.execute(
        update(t.invoices)
        .where(t.invoices.c.invoice_id == event.invoice_id)
        .values(amount_due=0, voided_on=event.voided_on, void_reason=event.reason)
    )


@project.register
async def _(event: e.InvoicePaymentApplied, session: AsyncSession) -> None:
    await session.execute(
        update(t.invoices).where(t.invoices.c.invoice_id == event.invoice_id).values(paid=t.invoices.c.paid + event.amount)
    )


@project.register
async def _(event: e.PaymentRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.payments).values(**event.model_dump(exclude={"allocations"})))
    await session.execute(
        insert(t.payment_allocations),
        [
            {"payment_id": event.payment_id, "position": i, "invoice_id": a.invoice_id, "amount": a.amount}
            for i, a in enumerate(event.allocations)
        ],
    )


@project.register
async def _(event: e.WithholdRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.withholds).values({**event.model_dump(), "caused_by": list(event.caused_by)}))


@project.register
async def _(event: e.WithholdLifted, session: AsyncSession) -> None:
    await session.execute(
        update(t.withholds)
        .where(t.withholds.c.decision_id == event.decision_id)
        .values(released_on=event.released_on, release_decision_id=event.release_decision_id)
    )


@project.register
async def _(event: e.MonthlySettlementRecorded, session: AsyncSession) -> None:
    await session.execute(
        insert(t.monthly_settlements).values(
            {**event.model_dump(), "withheld_by": list(event.withheld_by), "suspended_by": list(event.suspended_by)}
        )
    )


@project.register
async def _(event: e.SuspensionRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.suspensions).values({**event.model_dump(), "caused_by": list(event.caused_by)}))


@project.register
async def _(event: e.SuspensionLifted, session: AsyncSession) -> None:
    await session.execute(
        update(t.suspensions)
        .where(t.suspensions.c.decision_id == event.decision_id)
        .values(resumed_on=event.resumed_on, resume_decision_id=event.resume_decision_id, resume_reason=event.reason)
    )


@project.register
async def _(event: e.MonthlySettlementReleased, session: AsyncSession) -> None:
    await session.execute(
        update(t.monthly_settlements)
        .where(t.monthly_settlements.c.settlement_id == event.settlement_id)
        .values(
            status="released", released_on=event.released_on, release_decision_id=event.release_decision_id,
            release_reason=event.reason,
        )
    )


@project.register
async def _(event: e.DirectSettlementDeducted, session: AsyncSession) -> None:
    await session.execute(insert(t.direct_settlement_deductions).values(**event.model_dump()))


@project.register
async def _(event: e.AgreementNoted, session: AsyncSession) -> None:
    row = event.model_dump(exclude={"pooling_region_code"})
    await session.execute(insert(t.prepayment_agreements).values(**row, schedule_id=f"{event.institution_id}-{event.year_start.year}"))


@project.register
async def _(event: e.AgreementAmendmentNoted, session: AsyncSession) -> None:
    table = t.prepayment_agreements
    await session.execute(update(table).where(table.c.agreement_id == event.agreement_id).values(agreed_quantity=event.agreed_quantity))


@project.register
async def _(event: e.PrepaymentScheduled, session: AsyncSession) -> None:
    row = {**event.model_dump(mode="json"), "procurement_budget": event.procurement_budget}
    statement = pg_insert(t.prepayment_schedules).values(row)
    await session.execute(statement.on_conflict_do_update(index_elements=["schedule_id"], set_=dict(statement.excluded)))


@project.register
async def _(event: e.PrepaymentDisbursed, session: AsyncSession) -> None:
    await session.execute(insert(t.prepayment_disbursements).values(**event.model_dump()))


@project.register
async def _(event: e.PrepaymentLiquidated, session: AsyncSession) -> None:
    await session.execute(insert(t.prepayment_liquidations).values(**event.model_dump()))


@project.register(e.ContractNoted)
@project.register(e.ContractCycleMoved)
@project.register(e.AcceptanceNoted)
@project.register(e.ReturnNoted)
async def _(event: object, session: AsyncSession) -> None:
    """Contract facts are read from their streams (by the prepayment schedule) only."""


async def apply(session: AsyncSession, event: e.SettlementEvent) -> None:
    await project(event, session)
