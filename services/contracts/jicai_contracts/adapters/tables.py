"""The contracts database: event tables plus read models rebuilt from the store."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, Numeric, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from jicai_events.tables import add_event_tables

metadata = MetaData()
event_tables = add_event_tables(metadata)

institutions = Table(
    "institutions",
    metadata,
    Column("institution_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("pooling_region_code", String(6), nullable=False),
    Column("county_code", String(6), nullable=False),
)
manufacturers = Table(
    "manufacturers", metadata, Column("manufacturer_id", String(64), primary_key=True), Column("name", String(200), nullable=False)
)
distributors = Table(
    "distributors", metadata, Column("distributor_id", String(64), primary_key=True), Column("name", String(200), nullable=False)
)
products = Table(
    "products",
    metadata,
    Column("product_id", String(64), primary_key=True),
    Column("batch_id", String(64), nullable=False),
    Column("generic_name", String(200), nullable=False),
    Column("dosage_form", String(100), nullable=False),
    Column("specification", String(200), nullable=False),
    Column("manufacturer_id", String(64), nullable=False),
    Column("winning_unit_price", Numeric(14, 4), nullable=False),
    Column("trading_unit", String(20), nullable=False),
    Column("generic_group_id", String(64), index=True),
    Column("base_units_per_trading_unit", Numeric(10, 4)),
)
generic_groups = Table(
    "generic_groups",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("batch_id", String(64), nullable=False, index=True),
    Column("generic_name", String(200), nullable=False),
    Column("dosage_form", String(100), nullable=False),
    Column("base_unit", String(20), nullable=False),
)
non_winning_products = Table(
    "non_winning_products",
    metadata,
    Column("product_id", String(64), primary_key=True),
    Column("generic_group_id", String(64), nullable=False, index=True),
    Column("generic_name", String(200), nullable=False),
    Column("dosage_form", String(100), nullable=False),
    Column("specification", String(200), nullable=False),
    Column("manufacturer_name", String(200), nullable=False),
    Column("base_units_per_trading_unit", Numeric(10, 4), nullable=False),
    Column("reference_unit_price", Numeric(14, 4)),
)
contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", String(64), primary_key=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("manufacturer_id", String(64), nullable=False),
    Column("distributor_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("agreed_quantity", BigInteger, nullable=False),
    Column("cycle_start", Date, nullable=False),
    Column("cycle_end", Date, nullable=False),
    Column("signed_on", Date, nullable=False),
)

allocations = Table(
    "volume_allocations",
    metadata,
    Column("allocation_id", String(64), primary_key=True),
    Column("product_id", String(64), nullable=False),
    Column("agreement_year", Integer, nullable=False),
    Column("method", String(40), nullable=False),
    Column("total", Integer),
    Column("ratio", Numeric(6, 4)),
    Column("group_by_county", Boolean, nullable=False),
    Column("status", String(20), nullable=False, comment="draft | approved"),
    Column("approved_on", Date),
    Column("lines", JSONB, nullable=False),
    Column("pooling_region_code", String(6), comment="the region whose profile decided; null on drafts recorded before"),
    Column("profile_id", String(64)),
    Column("profile_version", Integer),
    Column("profile_method", String(40), comment="the profile's [allocation] method"),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("pooling_region_code", String(6), nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("cycle_start", Date, nullable=False),
    Column("lines", JSONB, nullable=False, comment="per generic group or product: winner_count, cycle_years, cycle_end (as extended)"),
)
yearly_agreements = Table(
    "yearly_agreements",
    metadata,
    Column("agreement_id", String(64), primary_key=True),
    Column("contract_id", String(64), nullable=False, index=True),
    Column("institution_id", String(64), nullable=False, index=True),
    Column("pooling_region_code", String(6), nullable=False),
    Column("manufacturer_id", String(64), nullable=False),
    Column("distributor_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("agreement_year", Integer, nullable=False),
    Column("year_start", Date, nullable=False),
    Column("year_end", Date, nullable=False),
    Column("agreed_quantity", BigInteger, nullable=False),
    Column("unit_price", Numeric(14, 4), nullable=False),
    Column("signed_on", Date, nullable=False, comment="signed, or rolled over (续签) from the previous year"),
)
acceptances = Table(
    "delivery_acceptances",
    metadata,
    Column("acceptance_id", String(64), primary_key=True),
    Column("contract_id", String(64), nullable=False, index=True),
    Column("accepted_on", Date, nullable=False),
    Column("accepted_quantity", BigInteger, nullable=False),
    Column("returned_quantity", BigInteger, nullable=False),
)
manufacturer_reports = Table(
    "manufacturer_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("manufacturer_id", String(64), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("produced_quantity", BigInteger, nullable=False),
    Column("supplied_quantity", BigInteger, nullable=False),
    Column("stock_quantity", BigInteger, nullable=False),
    Column("payments_received", Numeric(16, 2), nullable=False),
)

READ_MODELS = (
    institutions, manufacturers, distributors, products, contracts, allocations, generic_groups, non_winning_products,
    batches, yearly_agreements, acceptances, manufacturer_reports,
)
