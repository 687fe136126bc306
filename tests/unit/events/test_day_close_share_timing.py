"""How often an instance of a day-deciding group looks for a close in progress to take its share of.

Right after its partitions are assigned (started, a rebalance) it looks often for ``SHARE_JOIN_S``, not the whole
``SHARE_ACTIVE_S``: an idle service started by a test asked four times a second for half a minute. Once business time
moves (a marker, a ``DayClosed``, a close found in progress) it looks often for ``SHARE_ACTIVE_S`` again."""
from __future__ import annotations

import time

import pytest
from aiokafka import TopicPartition
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jicai_events.catalog import DayClosed
from jicai_events.consumer import POLL_TIMEOUT_MS, EventConsumer
from jicai_events.day_closes import SHARE_ACTIVE_S, SHARE_IDLE_INTERVAL_S, SHARE_INTERVAL_S, SHARE_JOIN_S
from jicai_events.envelope import Envelope
from jicai_events.subscriptions import Subscription
from jicai_events.tables import add_event_tables
from jicai_events.topics import CLOCK
from jicai_events.unit_of_work import UnitOfWork


async def _decide(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
    raise AssertionError("nothing is decided here")


async def _share(uow: UnitOfWork) -> bool:
    raise AssertionError("no share is taken here")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)  # what the consumer and its day closes read
    return fake


def _consumer() -> EventConsumer:
    return EventConsumer(
        service="alerts", name="alerts.settlement", consumer=None, dead_letter_producer=None,
        session_factory=async_sessionmaker[AsyncSession](), tables=add_event_tables(MetaData()),
        subscriptions=[Subscription(DayClosed, _decide)], day_close_share=_share,
    )


def _looks_every(consumer: EventConsumer, clock: Clock) -> float:
    """Seconds between two looks for a close in progress, as the consumer's loop would take them."""
    consumer._last_share = clock.now
    waited = 0.0
    while not consumer._share_due():
        clock.now += 0.05
        waited += 0.05
    return waited


def test_after_joining_an_instance_looks_often_for_a_while_then_rarely_until_time_moves(clock: Clock) -> None:
    consumer = _consumer()
    assert consumer._share_due(), "it looks once at once: a close already in progress is found at start"
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_IDLE_INTERVAL_S, abs=0.1), "not assigned yet: nothing to look for often"

    consumer._partitions_assigned(set())
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_INTERVAL_S, abs=0.1)
    assert consumer._poll_timeout_ms() == POLL_TIMEOUT_MS
    clock.now += SHARE_JOIN_S
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_IDLE_INTERVAL_S, abs=0.1)
    consumer._last_share = consumer._last_clock_check = consumer._last_prune = clock.now  # its periodic work just done
    assert consumer._poll_timeout_ms() > POLL_TIMEOUT_MS, "an idle poll waits longer"

    consumer._clock_seen = clock.now  # a marker read, as _on_marker records it
    clock.now += SHARE_ACTIVE_S - 1
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_INTERVAL_S, abs=0.1), "time moved: it looks often for the whole active window"
    consumer._partitions_assigned(set())  # a rebalance then does not shorten that window
    clock.now += SHARE_JOIN_S
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_IDLE_INTERVAL_S, abs=0.1)


class Assigned:
    """What the consumer asks of its Kafka client here: its topics, their partitions, and which of them it holds."""

    def __init__(self, topics: dict[str, int], held: set[tuple[str, int]]) -> None:
        self.topics, self.held = topics, held

    def subscription(self) -> set[str]:
        return set(self.topics)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.topics[topic]))

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(topic, partition) for topic, partition in self.held}


def test_an_instance_holding_every_partition_never_looks_for_a_share_of_a_close(clock: Clock) -> None:
    """Alone in its group (the common case) a close in progress is its own, decided chunk by chunk by its decider, or
    a killed instance's, which the next decider resumes: one instance asked four times a second for 30 s after each
    close for nothing. Holding only some of the partitions, it looks as before."""
    topics = {"orders": 6, CLOCK.qualified(): 1}
    everything = {(topic, p) for topic, n in topics.items() for p in range(n)}
    consumer = _consumer()
    consumer._consumer = Assigned(topics, everything)
    consumer._partitions_assigned(set())
    consumer._last_share = consumer._last_clock_check = consumer._last_prune = clock.now  # its periodic work just done
    consumer._clock_seen = clock.now  # a close just read: business time moved
    clock.now += SHARE_INTERVAL_S * 4
    assert not consumer._share_due()
    assert consumer._poll_timeout_ms() > POLL_TIMEOUT_MS, "no share to look for soon: the poll waits for its periodic work"

    consumer._consumer = Assigned(topics, everything - {("orders", 5)})  # a sibling holds one
    assert consumer._share_due()
    assert consumer._poll_timeout_ms() == POLL_TIMEOUT_MS
    assert _looks_every(consumer, clock) == pytest.approx(SHARE_INTERVAL_S, abs=0.1)
