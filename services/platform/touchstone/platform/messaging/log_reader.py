"""Reading a stretch of the log back: every partition of some topics up to their current end."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafka import KafkaConsumer, TopicPartition

from touchstone.platform.messaging.consumers import incoming
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import Incoming
from touchstone.platform.runtime.work_progress import Reporter, WorkProgress, unreported


def partitions_of(kafka: KafkaConnection, topics: Sequence[str]) -> list[tuple[str, int]]:
    """Every (topic, partition) of the topics."""
    consumer = KafkaConsumer(**kafka.client_config(enable_auto_commit=False))
    try:
        return partitions_in(consumer, topics)
    finally:
        consumer.close()


def partitions_in(consumer: KafkaConsumer, topics: Sequence[str]) -> list[tuple[str, int]]:
    """Every (topic, partition) of the topics, as the consumer's metadata has them."""
    return [(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]


def read_log(
    kafka: KafkaConnection,
    topics: Sequence[str],
    keep: Callable[[Incoming], bool],
    progress: Reporter = unreported,
) -> list[Incoming]:
    """The records keep() accepts, partition by partition in log order, from offset 0 to the
    end each partition has now; how many records are read so far told to progress."""
    consumer = KafkaConsumer(**kafka.consumer_config(enable_auto_commit=False))
    try:
        partitions = [TopicPartition(t, p) for t, p in partitions_in(consumer, topics)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        begin, end = consumer.beginning_offsets(partitions), consumer.end_offsets(partitions)
        total, started = sum(end[tp] - begin[tp] for tp in partitions), time.monotonic()
        records: list[Incoming] = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for messages in consumer.poll(timeout_ms=500).values():
                # whole fetches, compared by position: the embedded broker's end offsets can lag
                # the offsets of the records in a batch
                records += [r for m in messages if keep(r := incoming(m, m.timestamp))]
            read = sum(min(consumer.position(tp), end[tp]) - begin[tp] for tp in partitions)
            progress(WorkProgress(read, total, time.monotonic() - started))
        return records
    finally:
        consumer.close()
