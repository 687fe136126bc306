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
