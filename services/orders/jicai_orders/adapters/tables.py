"""The orders database: event tables plus read models rebuilt from the store."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from jicai_events.tables import add_event_tables

metadata = MetaData()
event_tables = add_event_tables(metadata)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("distributor_id", String(64), nullable=False),
    Column("manufacturer_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("agreed_quantity", BigInteger, nullable=False),
    Column("cycle_start", Date, nullable=False),
    Column("cycle_end", Date, nullable=False),
)
acceptances = Table(
    "acceptances",
    metadata,
    Column("acceptance_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("contract_id", String(64), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("distributor_id", String(64), nullable=False, index=True),
    Column("manufacturer_id", String(64), nullable=False),
    Column("pooling_region_code", String(6), nullable=False),
    Column("accepted_quantity", BigInteger, nullable=False),
    Column("rejected_quantity", BigInteger, nullable=False),
    Column("rejection_reason", Text),
    Column("accepted_on", Date, nullable=False),
    Column("lot_number", String(64), nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("accepted_amount", Numeric(16, 2), nullable=False),
    Column("invoiced_quantity", BigInteger, nullable=False, server_default=text("0")),
    Column("channel", String(10), nullable=False, server_default=text("'platform'"), comment="platform | offline"),
    Column("order_id", String(64), index=True),
    Column("returned_quantity", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint("institution_id", "external_id", name="uq_acceptances_institution_external"),
    CheckConstraint("returned_quantity BETWEEN 0 AND accepted_quantity", name="ck_acceptances_returned_within_accepted"),
    # Last line of defence; the invoice use case locks the rows and refuses first.
    CheckConstraint("invoiced_quantity BETWEEN 0 AND accepted_quantity", name="ck_acceptances_invoiced_within_accepted"),
)
invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("invoice_number", String(64), nullable=False),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("distributor_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("latest_acceptance_on", Date, nullable=False),
)
invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(64), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("acceptance_id", String(64), nullable=False, index=True),
    Column("contract_id", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("accepted_on", Date, nullable=False),
    PrimaryKeyConstraint("invoice_id", "line_no", name="pk_invoice_lines"),
)

generic_groups = Table(
    "generic_groups",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("batch_id", String(64), nullable=False),
    Column("generic_name", String(200), nullable=False),
    Column("dosage_form", String(100), nullable=False),
    Column("base_unit", String(20), nullable=False),
)
products = Table(
    "products",
    metadata,
    Column("product_id", String(64), primary_key=True),
    Column("winning", Boolean, nullable=False),
    Column("generic_group_id", String(64), index=True),
    Column("base_units_per_trading_unit", Numeric(10, 4)),
    Column("generic_name", String(200), nullable=False),
    Column("dosage_form", String(100), nullable=False),
    Column("specification", String(200), nullable=False),
)
purchases = Table(
    "purchases",
    metadata,
    Column("purchase_id", String(64), primary_key=True),
    Column("external_id", String(64), nullable=False),
    Column("institution_id", String(64), nullable=False),
    Column("pooling_region_code", String(6), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("generic_group_id", String(64), nullable=False),
    Column("winning", Boolean, nullable=False),
    Column("channel", String(10), nullable=False, comment="platform | offline"),
    Column("quantity", BigInteger, nullable=False),
    Column("base_units", Numeric(24, 4), nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("purchased_on", Date, nullable=False),
    UniqueConstraint("institution_id", "external_id", name="uq_purchases_institution_external"),
)

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("acceptance_id", String(64), nullable=False, index=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("contract_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("distributor_id", String(64), nullable=False),
    Column("returned_quantity", BigInteger, nullable=False),
    Column("returned_amount", Numeric(16, 2), nullable=False),
    Column("returned_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
)
orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("distributor_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("placed_on", Date, nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("stage", String(12), nullable=False, comment="placed | confirmed | shipped | cancelled (deliveries aside)"),
    Column("confirmed_on", Date),
    Column("shipped_on", Date),
    Column("cancelled_on", Date),
    Column("cancel_reason", Text),
)
order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(64), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("contract_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("accepted_quantity", BigInteger, nullable=False, server_default=text("0")),
    Column("rejected_quantity", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
    UniqueConstraint("order_id", "contract_id", name="uq_order_lines_order_contract"),
)

READ_MODELS = (contracts, acceptances, invoices, invoice_lines, generic_groups, products, purchases, orders, order_lines, returns)
