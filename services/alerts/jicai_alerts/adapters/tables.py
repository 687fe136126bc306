"""The alerts database: event tables plus read models rebuilt from the store."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, Numeric, SmallInteger, String, Table, func, text
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
    Column("invoice_number", String(200), nullable=False),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("distributor_id", String(64), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("paid", MONEY, nullable=False),
    Column("credited", MONEY, nullable=False, server_default=text("0"), comment="Σ credit notes (红冲)"),
    Column("outstanding", MONEY, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("latest_acceptance_on", Date, nullable=False),
    Column("deadline", Date, comment="NULL while it waits for the working-day calendar of its year"),
    Column("rule", String(100), nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("warned_on", Date),
    Column("resolved_on", Date),
    Column("withheld_from", Date),
    Column("released_on", Date),
    Column("voided_on", Date, comment="全额红冲: nothing owed from this day"),
    Column("paid_in_full_on", Date),
    # The business day whose close may bring the next decision; NULL when none can come
    # (paid in time, warning resolved, or withheld: a release needs a payment, not a day).
    Column("next_decision_on", Date),
    Column("waiting_for_calendar_year", Integer, comment="the year whose working-day calendar the next decision waits for"),
    Index("ix_invoices_next_decision_on", "next_decision_on", postgresql_where=text("next_decision_on IS NOT NULL")),
    Index(
        "ix_invoices_waiting_for_calendar_year", "waiting_for_calendar_year",
        postgresql_where=text("waiting_for_calendar_year IS NOT NULL"),
    ),
)

payment_allocations = Table(
    "payment_allocations",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("invoice_id", String(64), primary_key=True, index=True),
    Column("institution_id", String(64), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("payment_event_id", String(64), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(100), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("invoice_id", String(64), nullable=False, index=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("stream_id", String(200), nullable=False),
    Column("event_name", String(100), nullable=False, comment="domain event name in the event store"),
    Column("effective_on", Date, nullable=False, comment="deadline, warned_on, withheld_from, released_on or resolved_on"),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(100), primary_key=True, comment="the decision id of the warning or withhold"),
    Column("kind", String(30), nullable=False, comment="overdue_warning | settlement_withheld"),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("invoice_id", String(64), nullable=False),
    Column("since", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("outstanding_amount", MONEY, nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("closed_on", Date),
    Column("closed_by", String(100), comment="the decision that closed it (resolution or release)"),
)

clock = Table(
    "clock",
    metadata,
    Column("clock_id", String(20), primary_key=True),
    Column("last_closed_on", Date, nullable=False),
    Column("day_closed_event_id", String(64), nullable=False),
)

observed_events = Table(
    "observed_events",
    metadata,
    Column("event_id", String(64), primary_key=True, comment="id of an event this service consumed"),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("business_date", Date, nullable=False),
)

blocked_decisions = Table(
    "blocked_decisions",
    metadata,
    # Operational state, not a business fact: a decision the rules could not take yet
    # (e.g. a year the holiday calendar does not cover). Retried at every day close.
    Column("invoice_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("first_blocked_on", Date, nullable=False, comment="the business day whose close first failed"),
    Column("last_tried_on", Date, nullable=False),
    Column("reason", String(2000), nullable=False),
)

calendar_years = Table(
    "calendar_years",
    metadata,
    # Working-day calendars an operator loaded at run time (PUT /calendars/{year}), from CalendarYearLoaded events;
    # layered over the packaged calendar by every handler that decides with working days.
    Column("year", Integer, primary_key=True),
    Column("source", String(500), nullable=False, comment="the State Council notice it transcribes"),
    Column("holidays", JSONB, nullable=False, comment="rest days (放假), ISO dates"),
    Column("makeup_working_days", JSONB, nullable=False, comment="weekend working days (调休上班)"),
    Column("loaded_by", String(64), nullable=False),
)

# ---- a day close in progress (not read models: the close's own progress, never rebuilt) ------

day_close_runs = Table(
    "day_close_runs",
    metadata,
    # One row while the close of a business day is deciding its invoices chunk by chunk
    # (jicai_alerts.application.day_close); gone once its last step commits.
    Column("business_date", Date, primary_key=True),
    Column("day_closed_event_id", String(64), nullable=False),
    Column("previous_closed_on", Date, comment="the clock before this close: the last day fully decided"),
    Column("previous_event_id", String(64)),
    Column("invoices_due", Integer, nullable=False, comment="invoices whose decision day had come when the close began"),
    Column("invoices_decided", Integer, nullable=False, server_default=text("0"), comment="of those, taken by committed chunks"),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("correlation_id", String(64), comment="the DayClosed's correlation, which every chunk continues"),
)

day_close_queue = Table(
    "day_close_queue",
    metadata,
    # The invoices of a close not decided yet: each chunk deletes the ones it decides in its own transaction.
    Column("business_date", Date, primary_key=True),
    Column("invoice_id", String(64), primary_key=True),
    # Every instance of the consumer group decides chunks of the partitions it is assigned first, then helps the others.
    Column(
        "partition", SmallInteger, nullable=False, server_default=text("0"),
        comment="the orders-topic partition of the invoice's institution: the instance assigned it decides it first",
    ),
    Index("ix_day_close_queue_partition", "business_date", "partition", "invoice_id"),
)

READ_MODELS: tuple[Table, ...] = (invoices, payment_allocations, decisions, alerts, clock, observed_events, calendar_years)

# ---- R3 volume completion (read models of the ``volume-{institution}`` streams) ----------

volume_institutions = Table(
    "volume_institutions",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("next_period_end", Date, comment="the next period end to evaluate; NULL when none"),
    Column("last_period_end", Date),
    Column("last_ratio", Numeric(6, 4)),
    Column("suspension_decision_id", String(100), comment="the suspension in force, if any"),
    Column("suspended_from", Date),
    Index("ix_volume_institutions_next_period_end", "next_period_end"),
)

volume_contracts = Table(
    "volume_contracts",
    metadata,
    Column("contract_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("unit_price", Numeric(16, 4), nullable=False),
    Column("agreed_quantity", Numeric(20, 0), nullable=False),
    Column("cycle_start", Date, nullable=False),
    Column("cycle_end", Date, nullable=False),
)

volume_acceptances = Table(
    "volume_acceptances",
    metadata,
    Column("acceptance_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("contract_id", String(64), nullable=False),
    Column("quantity", Numeric(20, 0), nullable=False),
    Column("accepted_on", Date, nullable=False),
)

volume_periods = Table(
    "volume_periods",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("period_end", Date, primary_key=True),
    Column("ratio", Numeric(6, 4), nullable=False),
    Column("contracts", JSONB, nullable=False),
    Column("profile_id", String(64)),
    Column("profile_version", Integer),
    Column("exemption_id", String(64)),
)

volume_decisions = Table(
    "volume_decisions",
    metadata,
    Column("decision_id", String(100), primary_key=True),
    Column("kind", String(30), nullable=False, comment="volume_warning | settlement_suspended | settlement_resumed"),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("period_end", Date, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("ratio", Numeric(6, 4), nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
)

volume_exemptions = Table(
    "volume_exemptions",
    metadata,
    Column("exemption_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("reason", String(2000), nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("granted_by", String(64), nullable=False),
    Column("revoked_reason", String(2000)),
    Column("revoked_by", String(64)),
)

VOLUME_READ_MODELS = (volume_institutions, volume_contracts, volume_acceptances, volume_periods, volume_decisions, volume_exemptions)
READ_MODELS = (*READ_MODELS, *VOLUME_READ_MODELS)

# ---- R4 non-winning purchases (read models of ``winning-product-*`` and ``non-winning-*``) --

non_winning_products = Table(
    "non_winning_products",
    metadata,
    Column("product_id", String(64), primary_key=True),
    Column("generic_group_id", String(64), nullable=False),
    Column("base_units_per_trading_unit", Numeric(14, 4), nullable=False),
)

non_winning_institutions = Table(
    "non_winning_institutions",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("next_month_end", Date, comment="the last day of the next month to evaluate; NULL when none"),
    Column("last_month", Date, comment="first day of the last month evaluated; NULL when none"),
    Index("ix_non_winning_institutions_next_month_end", "next_month_end"),
)

non_winning_months = Table(
    "non_winning_months",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("month", Date, primary_key=True, comment="first day of the calendar month"),
    Column("generic_group_id", String(64), primary_key=True),
    Column("winning_base_units", Numeric(28, 4), nullable=False),
    Column("non_winning_base_units", Numeric(28, 4), nullable=False),
    Column("ratio", Numeric(20, 4), comment="non-winning / winning; NULL when nothing winning was accepted"),
    Column("cap_ratio", Numeric(10, 4), comment="NULL: the profile has no non_winning_cap"),
    Column("profile_id", String(64)),
    Column("profile_version", Integer),
    Column("decision_id", String(200), comment="the NonWinningPurchaseCapExceeded decision, if any"),
    Column("caused_by", JSONB),
)

NON_WINNING_READ_MODELS = (non_winning_products, non_winning_institutions, non_winning_months)
READ_MODELS = (*READ_MODELS, *NON_WINNING_READ_MODELS)

# ---- R7 monitoring indicators (read models of the ``kpi-{institution}`` streams) -----------

kpi_institutions = Table(
    "kpi_institutions",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("pooling_region_code", String(6), comment="of its latest purchase fact naming one"),
)

filing_warnings = Table(
    "filing_warnings",
    metadata,
    Column("decision_id", String(200), primary_key=True, comment="filing-warning-{institution}-{year}"),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("exceeded_on", Date, nullable=False),
    Column("filing_amount", MONEY, nullable=False),
    Column("warning_line", MONEY, nullable=False),
    Column("line_source", String(20), nullable=False, comment="profile | institution"),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
)

KPI_READ_MODELS = (kpi_institutions, filing_warnings)
READ_MODELS = (*READ_MODELS, *KPI_READ_MODELS)

# ---- manufacturers' monthly report (read models of the ``manufacturer-{id}`` streams) ------

manufacturer_watch = Table(
    "manufacturer_watch",
    metadata,
    Column("manufacturer_id", String(64), primary_key=True),
    Column("next_due_on", Date, comment="the due day of the next month to check; NULL when none"),
    Index("ix_manufacturer_watch_next_due_on", "next_due_on"),
)

manufacturer_report_misses = Table(
    "manufacturer_report_misses",
    metadata,
    Column("decision_id", String(200), primary_key=True, comment="manufacturer-report-{manufacturer}-{YYYY-MM}"),
    Column("manufacturer_id", String(64), nullable=False, index=True),
    Column("month", String(7), nullable=False, comment="the month the report is on, YYYY-MM"),
    Column("due_on", Date, nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("caused_by", JSONB, nullable=False),
    Column("closed_on", Date, comment="submitted_on of the late report; NULL while missing"),
    Column("report_event_id", String(64)),
)

MANUFACTURER_READ_MODELS = (manufacturer_watch, manufacturer_report_misses)
READ_MODELS = (*READ_MODELS, *MANUFACTURER_READ_MODELS)

# ---- facts counted once per stream (keyed state of the counting events, ``jicai_events.counted``) --

counted_facts = add_counted_facts(metadata)
READ_MODELS = (*READ_MODELS, counted_facts)
