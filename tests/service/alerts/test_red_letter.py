"""红冲 through the alerts consumer on real PostgreSQL: credit notes, clock restarts and voids (Guizhou 贵阳 520100, Hubei 武汉 420100).

Accepted 2026-09-01, received 09-05 → deadline Thu 10-08, warned 10-09, withheld from 10-23 (test_flow).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from jicai_events.catalog import InvoiceCredited, InvoiceVoided
from tests.service.alerts.test_flow import DEADLINE_SET, RELEASED, WARNED, WITHHELD, Alerts, alerts, invoice, payment

__all__ = ["alerts"]


def credited(credit_note_id: str, amount: str, after: str, received_on: date, region: str = "520100") -> InvoiceCredited:
    return InvoiceCredited(
        credit_note_id=credit_note_id, credit_note_number=f"No.-{credit_note_id}", invoice_id="INV-1", institution_id="H001",
        pooling_region_code=region, distributor_id="D001", amount=Decimal(amount), invoice_amount_after=Decimal(after),
        received_on=received_on, reason="价格调整",
    )


def voided(voided_on: date) -> InvoiceVoided:
    return InvoiceVoided(invoice_id="INV-1", institution_id="H001", pooling_region_code="520100", distributor_id="D001",
                         voided_on=voided_on, reason="开票错误")


def test_guizhou_a_credit_note_reduces_what_is_owed_and_restarts_the_deadline(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.close_days(date(2026, 9, 5), date(2026, 9, 24))
    status, envelope = alerts.deliver(credited("CN-1", "2000.00", "8000.00", date(2026, 9, 25)))
    assert status == "handled"

    one = alerts.get("/invoices/INV-1")
    assert (one["credited"], one["outstanding"], one["paid"], one["deadline"]) == ("2000.00", "8000.00", "0.00", "2026-10-26")
    assert one["received_on"] == "2026-09-05"  # the invoice's own receipt stays as received
    kind, data = alerts.outbox()[-1]
    assert (kind, data["decision_id"], data["deadline"]) == (DEADLINE_SET, "deadline-INV-1:r2", "2026-10-26")
    assert (data["profile_id"], data["profile_version"]) == ("guizhou-2020", 1)
    why = alerts.get("/decisions/deadline-INV-1:r2")
    assert [(c["id"], c["type"]) for c in why["causes"]][-1] == (envelope.id, InvoiceCredited.type_name())
    assert why["parameters"]["payment_term"]["credit_note_restarts_clock"] is True
    assert (why["decision"]["decision_id"], why["decision"]["deadline"]) == ("deadline-INV-1:r2", "2026-10-26")

    alerts.close_days(date(2026, 9, 25), date(2026, 10, 25))
    assert alerts.get("/institutions/H001/alerts") == []
    alerts.close_days(date(2026, 10, 26), date(2026, 10, 26))
    [warning] = alerts.get("/institutions/H001/alerts")
    assert (warning["since"], warning["outstanding_amount"]) == ("2026-10-27", "8000.00")
    assert alerts.deliver(envelope)[0] == "duplicate"


def test_hubei_keeps_the_acceptance_deadline_after_a_credit_note(alerts: Alerts) -> None:
    alerts.deliver(invoice(region="420100"))
    alerts.deliver(credited("CN-1", "2000.00", "8000.00", date(2026, 9, 25), region="420100"))
    one = alerts.get("/invoices/INV-1")
    assert (one["deadline"], one["outstanding"], one["profile_id"]) == ("2026-10-08", "8000.00", "hubei-2019")
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET]


def test_a_credit_leaving_nothing_owed_releases_the_withhold(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.deliver(payment("P1", date(2026, 10, 20), INV_1="7000.00"))
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 31))
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED, WITHHELD]

    alerts.deliver(credited("CN-1", "3000.00", "0.00", date(2026, 11, 3)))
    assert alerts.get("/institutions/H001/alerts") == []
    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["released_on"], one["outstanding"], one["credited"]) == ("released", "2026-11-03", "0.00", "3000.00")
    kind, data = alerts.outbox()[-1]
    assert (kind, data["withhold_decision_id"], data["released_on"], data["reason"]) == (RELEASED, "withhold-INV-1", "2026-11-03", "credited")


def test_a_void_closes_the_obligation_and_lifts_the_withhold(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 31))
    alerts.deliver(voided(date(2026, 11, 2)))

    assert alerts.get("/institutions/H001/alerts") == []
    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["voided_on"], one["outstanding"], one["next_decision_on"]) == ("voided", "2026-11-02", "0.00", None)
    kind, data = alerts.outbox()[-1]
    assert (kind, data["released_on"], data["reason"]) == (RELEASED, "2026-11-02", "voided")
    alerts.close_days(date(2026, 11, 1), date(2026, 11, 30))
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED, WITHHELD, RELEASED]


def test_a_voided_invoice_before_its_deadline_is_never_warned(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.deliver(voided(date(2026, 9, 10)))
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 31))
    assert alerts.get("/institutions/H001/alerts") == []
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET]
