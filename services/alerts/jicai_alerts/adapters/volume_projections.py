"""Read models of the volume-completion streams (R3), folded from their domain events."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_periods as vp
from jicai_alerts.domain import volume_state as vs
from jicai_alerts.domain.events import decode_volume
from jicai_events.pgcopy import copy_rows

KIND = {
    v.VolumeCompletionWarned: "volume_warning",
    v.SettlementSuspended: "settlement_suspended",
    v.SettlementResumed: "settlement_resumed",
}


def volume_stream(institution_id: str) -> str:
    return f"volume-{institution_id}"


async def apply(session: AsyncSession, event: v.VolumeEvent) -> None:
    if isinstance(event, v.ContractTracked):
        await session.execute(
            insert(t.volume_contracts).values(
                contract_id=event.contract_id, institution_id=event.institution_id, product_id=event.product_id,
                unit_price=event.unit_price, agreed_quantity=event.agreed_quantity,
                cycle_start=event.cycle_start, cycle_end=event.cycle_end,
            ).on_conflict_do_nothing()
        )
    elif isinstance(event, v.ReturnCounted):
        return  # kept in the stream only: counts are folded from it at the day close; the row does not depend on it
    elif isinstance(event, v.AgreementTracked | v.AgreementAmended):
        pass  # kept in the stream only: targets are folded from it (see _refresh_institution)
    elif isinstance(event, v.AcceptanceCounted):
        await count_acceptances(session, [event])
        return  # the institution's row does not depend on counted quantities: no refold per acceptance
    elif isinstance(event, v.PeriodEvaluated):
        await session.execute(
            insert(t.volume_periods).values(
                institution_id=event.institution_id, period_end=event.period_end, ratio=event.ratio,
                contracts=[c.model_dump(mode="json") for c in event.contracts], profile_id=event.profile_id,
                profile_version=event.profile_version, exemption_id=event.exemption_id,
            )
        )
    elif isinstance(event, v.VolumeExemptionGranted):
        await session.execute(
            insert(t.volume_exemptions).values(
                exemption_id=event.exemption_id, institution_id=event.institution_id, reason=event.reason,
                from_date=event.from_date, to_date=event.to_date, granted_by=event.granted_by,
            )
        )
    elif isinstance(event, v.VolumeExemptionRevoked):
        await session.execute(
            update(t.volume_exemptions).where(t.volume_exemptions.c.exemption_id == event.exemption_id)
            .values(revoked_reason=event.reason, revoked_by=event.revoked_by)
        )
    else:
        await session.execute(
            insert(t.volume_decisions).values(
                decision_id=event.decision_id, kind=KIND[type(event)], institution_id=event.institution_id,
                period_end=event.period_end, effective_on=_effective_on(event), ratio=event.ratio,
                profile_id=event.profile_id, profile_version=event.profile_version, caused_by=list(event.caused_by),
            )
        )
    await _refresh_institution(session, event.institution_id)


async def count_acceptances(session: AsyncSession, events: Sequence[v.AcceptanceCounted]) -> None:
    """Counted acceptances' rows, in one COPY (each is counted once; the institution's row does not depend on them)."""
    await copy_rows(session, t.volume_acceptances, [
        {"acceptance_id": e.acceptance_id, "institution_id": e.institution_id, "contract_id": e.contract_id, "quantity": e.quantity,
         "accepted_on": e.accepted_on}
        for e in events
    ])


def _effective_on(event: v.VolumeDecision) -> date:
    if isinstance(event, v.SettlementSuspended):
        return event.suspended_from
    if isinstance(event, v.SettlementResumed):
        return event.resumed_on
    return event.period_end


COUNTED = (v.AcceptanceCounted.name, v.ReturnCounted.name)
"""Kinds the institution's row does not depend on: its refold leaves them out (a hospital counts thousands a year,
and each contract, agreement or evaluation refolds the stream)."""


async def _refresh_institution(session: AsyncSession, institution_id: str) -> None:
    es = t.event_tables.event_store
    stored = await session.execute(
        select(es.c.event_type, es.c.data, es.c.event_id)
        .where(es.c.stream_id == volume_stream(institution_id), es.c.event_type.not_in(COUNTED)).order_by(es.c.version)
    )
    state = vs.fold(institution_id, ((decode_volume(event_type, data), event_id) for event_type, data, event_id in stored.all()))
    region = state.region
    if region is None:
        return
    last = state.last_evaluation.event if state.last_evaluation else None
    suspension = state.suspension.event if state.suspension else None
    values: dict[str, Any] = {
        "pooling_region_code": region,
        "next_period_end": vp.next_period_end(state),
        "last_period_end": last.period_end if last else None,
        "last_ratio": last.ratio if last else None,
        "suspension_decision_id": suspension.decision_id if suspension else None,
        "suspended_from": suspension.suspended_from if suspension else None,
    }
    await session.execute(
        insert(t.volume_institutions).values(institution_id=institution_id, **values)
        .on_conflict_do_update(index_elements=["institution_id"], set_=values)
    )
