"""Helpers of the settlement service tests: deliver consumed events through the real consumer path, read the database."""
from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text

from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import InvoiceLine, InvoiceReceived
from jicai_settlement.bootstrap import INVOICES
from tests.support import infra


def rows(db_url: str, sql: str) -> list[Any]:
    return infra.rows(db_url, sql)


def count(db_url: str, sql: str) -> int:
    return int(rows(db_url, sql)[0][0])


def deliver(client: TestClient, spec: Any, event: IntegrationEvent | Envelope) -> str:
    envelope = event if isinstance(event, Envelope) else Envelope.wrap(event, time=datetime.now(UTC))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return str(client.portal.call(runtime.event_consumer(spec).deliver, envelope))  # type: ignore[union-attr]


def invoice(
    client: TestClient, invoice_id: str, amount: str, institution: str = "H1", distributor: str = "D1", region: str = "520100",
    received_on: date = date(2026, 3, 2),
) -> None:
    event = InvoiceReceived(
        invoice_id=invoice_id, invoice_number=f"No.{invoice_id}", institution_id=institution, pooling_region_code=region,
        distributor_id=distributor, issued_on=received_on, received_on=received_on, amount=Decimal(amount),
        lines=(InvoiceLine(acceptance_id=f"{institution}:L-{invoice_id}", contract_id="C1", quantity=1,
                           unit_price=Decimal(amount), amount=Decimal(amount), accepted_on=date(2026, 2, 27)),),
        latest_acceptance_on=date(2026, 2, 27),
    )
    assert deliver(client, INVOICES, event) == "handled"


def field(response: httpx.Response) -> str:
    """The field a 422 problem names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["errors"][0]["field"])


async def until_blocked(runtime: Any, request: asyncio.Task[httpx.Response]) -> None:
    """Until the request waits on a lock another transaction holds (or has finished)."""
    sql = "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
    deadline = asyncio.get_running_loop().time() + 10
    while not request.done() and asyncio.get_running_loop().time() < deadline:
        async with runtime.engine.connect() as conn:
            if int((await conn.execute(text(sql))).scalar_one()) > 0:
                return
        await asyncio.sleep(0.02)
