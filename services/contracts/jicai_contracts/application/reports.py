"""Use case of manufacturers' monthly reports (Hubei 003 §五(二))."""
from __future__ import annotations

from datetime import date

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters.tables import manufacturers
from jicai_contracts.domain import report
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.events import ManufacturerReportSubmitted
from jicai_events.unit_of_work import UnitOfWork


async def submit(uow: UnitOfWork, event: ManufacturerReportSubmitted, today: date) -> bool:
    if await repo.find(uow, manufacturers, event.manufacturer_id) is None:
        raise DomainRuleViolated("manufacturer_id", f"manufacturer {event.manufacturer_id} is not registered")
    stream_id = f"manufacturer-report-{event.report_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = report.submit(history, event, today)
    await repo.streams.append(uow, stream_id, "manufacturer_report", version, new)
    return bool(new)
