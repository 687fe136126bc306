"""``Topic.partition_of`` names the partition Kafka's default partitioner gives a key, as the Java client computes it.

The hashes are the Java client's own murmur2 test vectors (``org.apache.kafka.common.utils.UtilsTest.testMurmur2``);
the partition is the positive hash modulo the partition count (``Utils.toPositive(murmur2(key)) % numPartitions``).
"""
from __future__ import annotations

import pytest

from jicai_events.topics import ORDERS, Topic

JAVA_MURMUR2 = {
    "21": -973932308,
    "foobar": -790332482,
    "a-little-bit-long-string": -985981536,
    "a-little-bit-longer-string": -1486304829,
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    "abc": 479470107,
}


@pytest.mark.parametrize("partitions", [1, 6, 7, 12])
@pytest.mark.parametrize(("key", "java_hash"), JAVA_MURMUR2.items())
def test_a_key_goes_to_the_partition_the_java_client_gives_it(key: str, java_hash: int, partitions: int) -> None:
    topic = Topic("t", partitions, "test")
    assert topic.partition_of(key) == (java_hash & 0x7FFFFFFF) % partitions


def test_institutions_spread_over_every_orders_partition() -> None:
    """Three hundred hospitals' keys reach all six partitions of the orders topic, none with more than a third."""
    counts = [0] * ORDERS.partitions
    for n in range(300):
        counts[ORDERS.partition_of(f"H{n:03d}")] += 1
    assert min(counts) > 0 and max(counts) < 100, counts
