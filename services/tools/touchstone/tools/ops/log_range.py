"""A fixed stretch of some topics' log, every partition from one offset to another, and reading
it back in batches (for replays)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from touchstone.platform.messaging.consumers import incoming
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.log_reader import partitions_of
from touchstone.platform.messaging.topics import Incoming

STALLED_AFTER_S = 30.0  # the broker said there were records there, and gives none


class LogStalled(Exception):
    """The broker stopped handing out records before the end it reported."""


@dataclass(frozen=True)
class LogRange:
    """Per (topic, partition): the first offset the broker still has, and the offset to stop at."""

    starts: Mapping[tuple[str, int], int]
    ends: Mapping[tuple[str, int], int]

    @property
    def total(self) -> int:
        """How many records the range holds."""
        return sum(max(0, end - self.starts[tp]) for tp, end in self.ends.items())

    def trimmed(self) -> list[tuple[str, int]]:
        """Partitions whose first records the broker no longer has (retention deleted them)."""
        return sorted(tp for tp, start in self.starts.items() if start > 0 and self.ends[tp] > 0)

    @classmethod
    def now(
        cls, kafka: KafkaConnection, topics: Sequence[str], at_least: Mapping[tuple[str, int], int]
    ) -> LogRange:
        """Every partition of the topics, from the first record the broker has to its end now
        (or to at_least, where the broker reports an end short of it)."""
        partitions = [TopicPartition(t, p) for t, p in partitions_of(kafka, topics)]
        consumer = KafkaConsumer(**kafka.client_config(enable_auto_commit=False))
        try:
            beginnings = consumer.beginning_offsets(partitions)
            ends = consumer.end_offsets(partitions)
        finally:
            consumer.close()
        keys = {tp: (tp.topic, tp.partition) for tp in partitions}
        return cls(
            {keys[tp]: beginnings[tp] for tp in partitions},
            {keys[tp]: max(ends[tp], at_least.get(keys[tp], 0)) for tp in partitions},
        )

    def after(self, offsets: Mapping[tuple[str, int], int]) -> LogRange:
        """The part of this range from the given offsets on (where a consumer group resumes)."""
        starts = {
            tp: min(max(offsets.get(tp, start), start), self.ends[tp])
            for tp, start in self.starts.items()
        }
        return LogRange(starts, self.ends)


async def read_range(
    kafka: KafkaConnection, log_range: LogRange, batch: int
) -> AsyncIterator[list[Incoming]]:
    """The range's records in batches of at most this many, each partition in log order."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition as Partition

    wanted = {
        Partition(t, p): end
        for (t, p), end in log_range.ends.items()
        if end > log_range.starts[(t, p)]
    }
    if not wanted:
        return
    consumer = AIOKafkaConsumer(
        **kafka.consumer_config(),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="none",  # a start the broker no longer has is an error, not a skip
    )
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, log_range.starts[(tp.topic, tp.partition)])
        async for records in _batches(consumer, wanted, batch):
            yield records
    finally:
        await consumer.stop()


async def _batches(
    consumer: Any, wanted: dict[Any, int], batch: int
) -> AsyncIterator[list[Incoming]]:
    """Fetch until every wanted partition's position reaches its end; whole batches."""
    records: list[Incoming] = []
    idle_since = time.monotonic()
    while wanted:
        fetched = await consumer.getmany(*wanted, timeout_ms=500, max_records=batch)
        for tp, messages in fetched.items():
            end = wanted.get(tp, 0)
            records += [incoming(m, m.timestamp) for m in messages if m.offset < end]
        for tp, end in list(wanted.items()):
            if await consumer.position(tp) >= end:  # a position steps over gaps and markers
                del wanted[tp]
                consumer.pause(tp)
        if any(fetched.values()):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > STALLED_AFTER_S:
            short = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in wanted)
            raise LogStalled(f"no records for {STALLED_AFTER_S:.0f}s before the end of {short}")
        # the broker hands out small fetches: fill whole batches, the handler's unit of work
        while len(records) >= batch or (records and not wanted):
            yield records[:batch]
            records = records[batch:]
