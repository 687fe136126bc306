"""Prometheus metrics of the event plumbing, labelled by service."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "jicai_events_published_total", "Events the outbox relay published to Kafka", ["service", "topic", "type"]
)
EVENTS_CONSUMED = Counter(
    "jicai_events_consumed_total",
    "Events a consumer took from Kafka, by outcome (handled, duplicate, ignored, dead_lettered)",
    ["service", "consumer", "type", "outcome"],
)
DEAD_LETTERS = Counter(
    "jicai_dead_letters_total", "Events sent to the dead-letter topic", ["service", "consumer", "type"]
)
CONSUMER_LAG = Gauge(
    "jicai_consumer_lag", "Messages not yet consumed (high watermark - position)", ["service", "consumer", "topic", "partition"]
)
OUTBOX_BACKLOG = Gauge("jicai_outbox_backlog", "Outbox rows not yet published to Kafka", ["service"])
DAY_CLOSE_PENDING = Gauge(
    "jicai_day_close_pending_days", "Business days closed but not yet decided: waiting for watermarks", ["service", "consumer"]
)
DAY_CLOSE_OLDEST_PENDING = Gauge(
    "jicai_day_close_oldest_pending_timestamp_seconds",
    "When the oldest day close still waiting for its watermarks arrived (0: none waits)",
    ["service", "consumer"],
)
DAY_CLOSED_THROUGH = Gauge(
    "jicai_day_closed_through_timestamp_seconds",
    "The last business day decided, as the Unix time of its date (00:00 UTC)",
    ["service", "consumer"],
)
DAY_CLOSE_PARTITIONS_BEHIND = Gauge(
    "jicai_day_close_partitions_behind",
    "Partitions of a topic whose day-close marker has not reached the oldest waiting close (their producer is behind)",
    ["service", "consumer", "topic"],
)
PARKED_PARTITIONS = Gauge(
    "jicai_consumer_parked_partitions",
    "Partitions a consumer stopped reading because a handler kept failing (resume after fixing the cause)",
    ["service", "consumer"],
)
