"""A service's Kafka consumers are timed by its settings: session, heartbeats, the long poll of an idle fetch."""
from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from jicai_events.kafka import FETCH_MAX_WAIT_MS, SESSION_TIMEOUT_MS
from jicai_kit.runtime import ServiceRuntime
from jicai_orders.adapters.tables import event_tables
from jicai_orders.bootstrap import CONTRACTS_CONSUMER
from jicai_orders.settings import Settings

TIMING_VARIABLES = ("JICAI_KAFKA_FETCH_MAX_WAIT_MS", "JICAI_KAFKA_SESSION_TIMEOUT_MS")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TIMING_VARIABLES:  # the suite's conftest sets its own
        monkeypatch.delenv(name, raising=False)


async def timing(consumer: AIOKafkaConsumer) -> tuple[int, int, int]:
    """What the consumer would ask the broker for (aiokafka keeps its configuration in private attributes only)."""
    try:
        return consumer._fetch_max_wait_ms, consumer._session_timeout_ms, consumer._heartbeat_interval_ms
    finally:
        await consumer.stop()  # never started: closes its client


async def test_the_consumers_long_poll_and_session_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = ServiceRuntime(settings=Settings(), tables=event_tables, consumers=(CONTRACTS_CONSUMER,))
    assert await timing(runtime.kafka_consumer(CONTRACTS_CONSUMER)) == (FETCH_MAX_WAIT_MS, SESSION_TIMEOUT_MS, SESSION_TIMEOUT_MS * 3 // 10)
    assert FETCH_MAX_WAIT_MS == 500, "production keeps Kafka's default long poll"

    monkeypatch.setenv("JICAI_KAFKA_FETCH_MAX_WAIT_MS", "2500")
    monkeypatch.setenv("JICAI_KAFKA_SESSION_TIMEOUT_MS", "3000")
    runtime = ServiceRuntime(settings=Settings(), tables=event_tables, consumers=(CONTRACTS_CONSUMER,))
    assert await timing(runtime.kafka_consumer(CONTRACTS_CONSUMER)) == (2500, 3000, 900)


@pytest.mark.parametrize("value", ["0", "50", "60000", "soon"])
def test_a_long_poll_out_of_range_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("JICAI_KAFKA_FETCH_MAX_WAIT_MS", value)
    with pytest.raises(ValidationError, match="JICAI_KAFKA_FETCH_MAX_WAIT_MS") as refused:
        Settings()
    assert refused.value.errors()[0]["type"] in {"greater_than_equal", "less_than_equal", "int_parsing"}
