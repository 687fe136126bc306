"""Parked partitions: where a consumer stopped because a handler kept failing for a reason of ours.

A fact that fails for a reason other than its own content (a bug, a missing
file, a dependency away) must not be dropped and must not be overtaken by the
facts behind it on its partition. So the consumer pauses that partition and
leaves its position on the failing record (nothing after it is committed).
The partition shows in ``/readyz`` and ``jicai_consumer_parked_partitions``
until an operator resumes it (``POST /consumers/{name}/partitions/{topic}/{partition}/resume``)
after fixing the cause, or a restart or rebalance retries it.

A failure that heals by itself (``AwaitsOtherFacts``: the policy book behind the writer's, the change on its way
on the policy topic) is retried on its own too, 1 s after parking, then backing off to once a minute: a fact
another service accepted is never left waiting for an operator because one topic ran ahead of another.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from jicai_events.metrics import PARKED_PARTITIONS

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=1)
LAST_RETRY = timedelta(seconds=60)
"""The back-off of a self-healing park: doubling from the first to the last, then every ``LAST_RETRY``."""


@dataclass(frozen=True)
class ParkedPartition:
    consumer: str
    topic: str
    partition: int
    offset: int
    reason: str
    since: datetime
    retry_at: datetime | None = None  # None: parked until an operator resumes it (or a restart or rebalance)


class ParkedPartitions:
    """One consumer's parked partitions (this instance's; another instance parks its own)."""

    def __init__(self, service: str, consumer: str) -> None:
        self._service, self._consumer = service, consumer
        self._parked: dict[TopicPartition, ParkedPartition] = {}
        self._retries: dict[tuple[TopicPartition, int], int] = {}  # self-healing parks so far, per failing record

    def __contains__(self, tp: object) -> bool:
        return tp in self._parked

    def all(self) -> list[ParkedPartition]:
        return sorted(self._parked.values(), key=lambda p: (p.topic, p.partition))

    def park(self, kafka: AIOKafkaConsumer, tp: TopicPartition, offset: int, reason: str, *, retries: bool = False) -> None:
        kafka.pause(tp)
        kafka.seek(tp, offset)  # the failing record is the next one read after resuming
        now, retry_at = datetime.now(UTC), None
        if retries:
            tried = self._retries.get((tp, offset), 0)
            # one failing record per partition at a time: an earlier one of this partition has passed
            self._retries = {k: n for k, n in self._retries.items() if k[0] != tp} | {(tp, offset): tried + 1}
            retry_at = now + min(FIRST_RETRY * 2**tried, LAST_RETRY)
        self._parked[tp] = ParkedPartition(self._consumer, tp.topic, tp.partition, offset, reason, now, retry_at)
        self._report()
        log.error("consumer %s parked %s[%d] at offset %d%s: %s", self._consumer, tp.topic, tp.partition, offset,
                  "" if retry_at is None else f" (retried at {retry_at:%H:%M:%S})", reason)

    def due(self, now: datetime | None = None) -> list[TopicPartition]:
        """The self-healing parks whose retry time has come."""
        now = now or datetime.now(UTC)
        return [tp for tp, p in self._parked.items() if p.retry_at is not None and p.retry_at <= now]

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
        self._retries.clear()
        self._report()

    def forget(self, revoked: set[TopicPartition]) -> None:
        """Revoked partitions: their next owner reads from the failing record again."""
        for tp in revoked:
            self._parked.pop(tp, None)
        self._retries = {k: n for k, n in self._retries.items() if k[0] not in revoked}
        self._report()

    def _report(self) -> None:
        PARKED_PARTITIONS.labels(self._service, self._consumer).set(len(self._parked))


__all__ = ["ParkedPartition", "ParkedPartitions"]
