"""The tables every service's database has: event store, outbox, processed events.

Each service adds them to its own SQLAlchemy ``MetaData`` and its own Alembic
history (``add_event_tables(metadata)``); services never share a database.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

OUTBOX_CHANNEL = "jicai_outbox"
"""What a commit that wrote outbox rows notifies (PostgreSQL ``NOTIFY``, delivered once it commits): the relay listens."""
_OUTBOX_NOTIFIES = (
    # Once per statement (a thousand-row insert is one notification), whichever process wrote.
    f"CREATE FUNCTION outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_written()",
)


def _create_outbox_notify(target: Table, connection: Connection, **_: object) -> None:
    """With the outbox table (``metadata.create_all``); a service's history: ``migration_steps.add_outbox_notify``."""
    for statement in _OUTBOX_NOTIFIES:
        connection.exec_driver_sql(statement)


class EventTables:
    def __init__(self, metadata: MetaData) -> None:
        self.event_store = Table(
            "event_store",
            metadata,
            Column("global_position", BigInteger, Identity(always=True), primary_key=True),
            Column("stream_id", String(200), nullable=False),
            Column("stream_type", String(100), nullable=False),
            Column("version", Integer, nullable=False),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("event_type", String(200), nullable=False),
            Column("data", JSONB, nullable=False),
            Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
            Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            # Optimistic concurrency: two writers of the same stream version collide here.
            UniqueConstraint("stream_id", "version", name="uq_event_store_stream_version"),
        )
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", BigInteger, Identity(always=True), primary_key=True),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("topic", String(200), nullable=False),
            Column("message_key", String(200), nullable=False),
            Column("payload", LargeBinary, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("published_at", DateTime(timezone=True)),
            # A watermark marker goes to every partition of the topic, not to its key's.
            Column("all_partitions", Boolean, nullable=False, server_default=text("false")),
            Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        )
        event.listen(self.outbox, "after_create", _create_outbox_notify)
        self.processed_events = Table(
            "processed_events",
            metadata,
            Column("consumer", String(100), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("event_type", String(200), nullable=False),
            Column("outcome", String(20), nullable=False),
            Column("reason", Text),
            Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        )
        # Day-close watermarks (see jicai_events.watermarks): the latest closed day
        # whose marker a consumer has read on each partition it depends on.
        self.clock_watermarks = Table(
            "clock_watermarks",
            metadata,
            Column("consumer", String(100), nullable=False),
            Column("topic", String(200), nullable=False),
            Column("partition", Integer, nullable=False),
            Column("closed_through", Date, nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            PrimaryKeyConstraint("consumer", "topic", "partition", name="pk_clock_watermarks"),
        )
        # Every DayClosed a consumer has seen, and when it was decided (held back
        # until the watermarks reach it).
        self.day_closes = Table(
            "day_closes",
            metadata,
            Column("consumer", String(100), nullable=False),
            Column("business_date", Date, nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("envelope", LargeBinary, nullable=False),
            Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("decided_at", DateTime(timezone=True)),
            PrimaryKeyConstraint("consumer", "business_date", name="pk_day_closes"),
        )

        # Events a consumer could not apply (see jicai_events.dead_letters): the raw
        # message and the reason, until an operator redrives or resolves it.
        self.dead_letters = Table(
            "dead_letters",
            metadata,
            Column("id", BigInteger, Identity(always=True), primary_key=True),
            Column("consumer", String(100), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("event_type", String(200), nullable=False),
            # Where it was read (null: delivered without Kafka, e.g. a replay).
            Column("topic", String(200)),
            Column("partition", Integer),
            Column("offset", BigInteger),
            Column("message", LargeBinary, nullable=False),
            Column("reason", Text, nullable=False),
            Column("first_seen", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("last_seen", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("count", Integer, nullable=False, server_default=text("1")),
            Column("status", String(20), nullable=False, server_default=text("'dead'")),
            UniqueConstraint("consumer", "event_id", name="uq_dead_letters_consumer_event"),
            Index("ix_dead_letters_status_consumer", "status", "consumer", "id"),
        )
        # Policy changes (region assignments, rule go-lives, calendar years) this service has read from the
        # policy topic, in the topic's order: folded over the packaged profiles (jicai_kit.policy).
        self.policy_changes = Table(
            "policy_changes",
            metadata,
            Column("position", BigInteger, Identity(always=True), primary_key=True),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("event_type", String(200), nullable=False),
            Column("data", JSONB, nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        )
        # Pruning old claims scans by age (jicai_events.claims).
        Index("ix_processed_events_processed_at", self.processed_events.c.processed_at)


def add_event_tables(metadata: MetaData) -> EventTables:
    """Declare the event tables on a service's metadata (once per service)."""
    return EventTables(metadata)
