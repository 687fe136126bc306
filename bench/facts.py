"""The orders facts the alerts rows replay: acceptances and invoices of 300 hospitals in Guiyang.

An invoice here was accepted 2026-09-01 and received 09-05: due 10-08, warned at
the close of 10-08 and withheld later if still unpaid.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from jicai_events.catalog import DeliveryAccepted, InvoiceLine, InvoiceReceived

REGION = "520100"
ACCEPTED, RECEIVED = date(2026, 9, 1), date(2026, 9, 5)


def acceptance(n: int) -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=f"H{n % 300:03d}:A{n}", external_id=f"A{n}", institution_id=f"H{n % 300:03d}", pooling_region_code=REGION,
        contract_id=f"C{n % 300}", product_id="P1", distributor_id="D001", accepted_quantity=100, rejected_quantity=0,
        accepted_on=ACCEPTED, lot_number="LOT1", unit_price=Decimal("1.9800"), accepted_amount=Decimal("198.00"),
    )


def invoice(n: int) -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id=f"INV-{n}", invoice_number=str(n), institution_id=f"H{n % 300:03d}", pooling_region_code=REGION,
        distributor_id="D001", issued_on=ACCEPTED, received_on=RECEIVED, amount=Decimal("198.00"),
        lines=(InvoiceLine(acceptance_id=f"A{n}", contract_id="C1", quantity=100, unit_price=Decimal("1.9800"),
                           amount=Decimal("198.00"), accepted_on=ACCEPTED),),
        latest_acceptance_on=ACCEPTED,
    )
