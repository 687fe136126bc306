"""Parked partitions: where a consumer stopped because a handler kept failing for a reason of ours.

A fact that fails for a reason other than its own content (a bug, a missing
file, a dependency away) must not be dropped and must not be overtaken by the
facts behind it on its partition. So the consumer pauses that partition and
leaves its position on the failing record (nothing after it is committed).
The partition shows in ``/readyz`` and ``jicai_consumer_parked_partitions``
until an operator resumes it (``POST /consumers/{name}/partitions/{topic}/{partition}/resume``)
after fixing the cause, or a restart or rebalance retries it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from jicai_events.metrics import PARKED_PARTITIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParkedPartition:
    consumer: str
    topic: str
    partition: int
    offset: int
    reason: str
    since: datetime


class ParkedPartitions:
    """One consumer's parked partitions (this instance's; another instance parks its own)."""

    def __init__(self, service: str, consumer: str) -> None:
        self._service, self._consumer = service, consumer
        self._parked: dict[TopicPartition, ParkedPartition] = {}

    def __contains__(self, tp: object) -> bool:
        return tp in self._parked

    def all(self) -> list[ParkedPartition]:
        return sorted(self._parked.values(), key=lambda p: (p.topic, p.partition))

    def park(self, kafka: AIOKafkaConsumer, tp: TopicPartition, offset: int, reason: str) -> None:
        kafka.pause(tp)
        kafka.seek(tp, offset)  # the failing record is the next one read after resuming
        self._parked[tp] = ParkedPartition(self._consumer, tp.topic, tp.partition, offset, reason, datetime.now(UTC))
        self._report()
        log.error("consumer %s parked %s[%d] at offset %d: %s", self._consumer, tp.topic, tp.partition, offset, reason)

    def resume(self, kafka: AIOKafkaConsumer, tp: TopicPartition) -> ParkedPartition | None:
        parked = self._parked.pop(tp, None)
        if parked is not None:
            kafka.resume(tp)
            self._report()
            log.warning("consumer %s resumed %s[%d] at offset %d", self._consumer, tp.topic, tp.partition, parked.offset)
        return parked

    def reset(self) -> None:
        """A consumer starting or stopping reading: nothing is parked by it (a restart retries)."""
        self._parked.clear()
        self._report()

    def forget(self, revoked: set[TopicPartition]) -> None:
        """Revoked partitions: their next owner reads from the failing record again."""
        for tp in revoked:
            self._parked.pop(tp, None)
        self._report()

    def _report(self) -> None:
        PARKED_PARTITIONS.labels(self._service, self._consumer).set(len(self._parked))


__all__ = ["ParkedPartition", "ParkedPartitions"]
