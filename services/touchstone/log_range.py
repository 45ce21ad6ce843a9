"""A fixed stretch of some topics' log, every partition from its first record up to an offset,
and reading it back in batches (for replays)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from touchstone.common.consumers import incoming
from touchstone.common.topics import Incoming


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
    def until(
        cls, bootstrap: str, topics: Sequence[str], stop_at: Mapping[tuple[str, int], int]
    ) -> LogRange:
        """Every partition of the topics, from its beginning to stop_at (0 where it has none)."""
        partitions = [TopicPartition(t, p) for t, p in partitions_of(bootstrap, topics)]
        consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
        try:
            beginnings = consumer.beginning_offsets(partitions)
        finally:
            consumer.close()
        starts = {(tp.topic, tp.partition): beginnings[tp] for tp in partitions}
        ends = {key: max(stop_at.get(key, 0), starts[key]) for key in starts}
        return cls(starts, ends)


def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[tuple[str, int]]:
    """Every (topic, partition) of the topics."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        return [
            (topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
    finally:
        consumer.close()


async def read_range(
    bootstrap: str, log_range: LogRange, batch: int
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
        bootstrap_servers=bootstrap.split(","), enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        while wanted:
            fetched = await consumer.getmany(*wanted, timeout_ms=500, max_records=batch)
            records = []
            for tp, messages in fetched.items():
                end = wanted.get(tp)
                if end is None:
                    continue
                records += [incoming(m, m.timestamp) for m in messages if m.offset < end]
                if await consumer.position(tp) >= end:  # positions skip gaps and markers
                    del wanted[tp]
                    consumer.pause(tp)
            if records:
                yield records
    finally:
        await consumer.stop()
