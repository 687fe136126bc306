"""The settlement database: event tables plus read models rebuilt from the store."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Integer, MetaData, Numeric, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from jicai_events.counted import add_counted_facts
from jicai_events.tables import add_event_tables

metadata = MetaData()
event_tables = add_event_tables(metadata)

MONEY = Numeric(16, 2)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("distributor_id", String(64), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("paid", MONEY, nullable=False, server_default=text("0")),
    Column("received_on", Date, nullable=False),
    Column("amount_due", MONEY, nullable=False, comment="what the invoice asks for after credit notes and voids (红冲)"),
    Column("voided_on", Date),
    Column("void_reason", Text),
    Column("pooling_region_code", String(6)),
)
invoice_credits = Table(
    "invoice_credits",
    metadata,
    Column("credit_note_id", String(64), primary_key=True),
    Column("invoice_id", String(64), nullable=False, index=True),
    Column("credit_note_number", String(100), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("amount_after", MONEY, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
)
payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("distributor_id", String(64), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("reference", String(200)),
    Column("payer", String(20), nullable=False, server_default=text("'institution'")),
)
payment_allocations = Table(
    "payment_allocations",
    metadata,
    Column("payment_id", String(64), ForeignKey("payments.payment_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("invoice_id", String(64), nullable=False, index=True),
    Column("amount", MONEY, nullable=False),
)
withholds = Table(
    "withholds",
    metadata,
    Column("decision_id", String(200), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("invoice_id", String(64), nullable=False),
    Column("warned_on", Date, nullable=False),
    Column("withheld_from", Date, nullable=False),
    Column("outstanding_amount", MONEY, nullable=False),
    Column("profile_id", String(100), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
    Column("released_on", Date),
    Column("release_decision_id", String(200)),
)
monthly_settlements = Table(
    "monthly_settlements",
    metadata,
    Column("settlement_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("withheld_by", JSONB, nullable=False),
    Column("released_on", Date),
    Column("release_decision_id", String(200)),
    Column("suspended_by", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("release_reason", Text),
)
suspensions = Table(
    "suspensions",
    metadata,
    Column("decision_id", String(100), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("period_end", Date, nullable=False),
    Column("ratio", Numeric(6, 4), nullable=False),
    Column("suspend_below", Numeric(6, 4), nullable=False),
    Column("suspended_from", Date, nullable=False),
    Column("profile_id", String(100), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
    Column("resumed_on", Date),
    Column("resume_decision_id", String(100)),
    Column("resume_reason", String(30)),
)

direct_settlement_deductions = Table(
    "direct_settlement_deductions",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("distributor_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount", MONEY, nullable=False),
)
prepayment_agreements = Table(
    "prepayment_agreements",
    metadata,
    Column("agreement_id", String(64), primary_key=True),
    Column("schedule_id", String(80), nullable=False, index=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("contract_id", String(64), nullable=False),
    Column("agreement_year", Integer, nullable=False),
    Column("year_start", Date, nullable=False),
    Column("year_end", Date, nullable=False),
    Column("agreed_quantity", BigInteger, nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("signed_on", Date, nullable=False),
)
prepayment_schedules = Table(
    "prepayment_schedules",
    metadata,
    Column("schedule_id", String(80), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("procurement_budget", MONEY, nullable=False),
    Column("profile_id", String(100), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("instalments", JSONB, nullable=False),
)
prepayment_disbursements = Table(
    "prepayment_disbursements",
    metadata,
    Column("disbursement_id", String(64), primary_key=True),
    Column("schedule_id", String(80), nullable=False, index=True),
    Column("institution_id", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("phase", Integer, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("disbursed_on", Date, nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("last_year_average_monthly_fund_payment", MONEY),
)
prepayment_liquidations = Table(
    "prepayment_liquidations",
    metadata,
    Column("liquidation_id", String(64), primary_key=True),
    Column("schedule_id", String(80), nullable=False, unique=True),
    Column("institution_id", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("liquidated_on", Date, nullable=False),
    Column("prepaid", MONEY, nullable=False),
    Column("invoiced", MONEY, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("amount", MONEY, nullable=False),
)

counted_facts = add_counted_facts(metadata)
"""Acceptances and returns a ``contract-*`` stream counted already (``jicai_events.counted``)."""

READ_MODELS = (
    invoices, invoice_credits, payments, payment_allocations, withholds, monthly_settlements, suspensions, direct_settlement_deductions,
    prepayment_agreements, prepayment_schedules, prepayment_disbursements, prepayment_liquidations, counted_facts,
)
"""In dependency order (allocations after payments); rebuild empties them in reverse."""
