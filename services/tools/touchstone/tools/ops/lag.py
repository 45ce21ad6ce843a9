"""How far behind each service is: the records on its input topics its consumer group has not
committed yet (the broker's end offsets minus the group's), read from the broker, as any
operator's tool would, so it tells the truth even about a service that has stopped."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from touchstone.platform.messaging.consumers import consumer_group
from touchstone.platform.messaging.kafka_connection import KafkaConnection

FETCH_WAIT_MS = 300  # for the fetch that reports each partition's high watermark
log = logging.getLogger(__name__)
BEHIND = 1_000  # records: a service further behind than this is named in the summary


class LagReader:
    """Reads each service's lag; clients kept open between readings."""

    def __init__(
        self, kafka: KafkaConnection, inputs: Mapping[str, Sequence[str]], consumer_kind: str
    ) -> None:
        self.inputs = inputs
        self.groups = {name: consumer_group(name, consumer_kind) for name in inputs}
        self._admin = KafkaAdminClient(**kafka.client_config(client_id="touchstone-lag"))
        self._consumer = KafkaConsumer(
            **kafka.client_config(client_id="touchstone-lag", enable_auto_commit=False),
            max_partition_fetch_bytes=1024,  # it reads only the high watermarks
        )

    def read(self) -> dict[str, int | None]:
        """Each service's records not yet committed; None where the broker did not say."""
        return {name: self.lag_of(name) for name in self.inputs}

    def lag_of(self, name: str) -> int | None:
        """One service's records not yet committed; None where the broker did not say."""
        try:
            committed: Any = self._admin.list_group_offsets({self.groups[name]: None})
            done = committed.get(self.groups[name]) or {}
            partitions = [
                TopicPartition(t, p)
                for t in self.inputs[name]
                for p in sorted(self._consumer.partitions_for_topic(t) or ())
            ]
            ends = self._ends(partitions)
        except Exception as error:  # KafkaError, or kafka-python's own slips (a KeyError when
            # a partition is missing from an offsets answer): this reading is unknown, no more
            log.info("lag of %s unknown: %r", name, error)
            return None
        return sum(max(ends[tp] - max(getattr(done.get(tp), "offset", 0), 0), 0) for tp in ends)

    def records_on(self, topics: Sequence[str]) -> dict[str, int]:
        """Each topic's records so far: the sum of its partitions' ends."""
        partitions = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(self._consumer.partitions_for_topic(t) or ())
        ]
        ends = self._ends(partitions)
        return {t: sum(n for tp, n in ends.items() if tp.topic == t) for t in topics}

    def _ends(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Each partition's end: the high watermark a fetch reports (some brokers' ListOffsets
        answer the last batch's first offset + 1, short of it by the rest of that batch)."""
        listed = self._consumer.end_offsets(partitions)
        self._consumer.assign(partitions)
        for tp in partitions:
            self._consumer.seek(tp, max(listed[tp] - 1, 0))
        self._consumer.poll(timeout_ms=FETCH_WAIT_MS)
        return {tp: max(listed[tp], self._consumer.highwater(tp) or 0) for tp in partitions}

    def close(self) -> None:
        self._admin.close()
        self._consumer.close()


def behind(lags: Mapping[str, int | None], most: int = BEHIND) -> list[str]:
    """The services further behind than `most` records."""
    return [name for name, lag in lags.items() if lag is not None and lag > most]
