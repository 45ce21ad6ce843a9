"""Replaying the log: a service's real handler and Postgres store fed its topics from offset 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from touchstone.common.consumers import incoming
from touchstone.common.pg import open_pool
from touchstone.common.settings import Settings
from touchstone.common.topics import Incoming
from touchstone.stack import service_spec

BATCH = 500


def read_log(
    bootstrap: str, topics: Sequence[str], keep: Callable[[Incoming], bool]
) -> list[Incoming]:
    """Every record of the topics from offset 0 to their current end that keep() accepts."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(topic, p) for topic in topics for p in consumer.partitions_for_topic(topic)
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    end = consumer.end_offsets(partitions)
    records: list[Incoming] = []
    try:
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for messages in consumer.poll(timeout_ms=500).values():
                records += [r for m in messages if keep(r := incoming(m, m.timestamp))]
    finally:
        consumer.close()
    return records


@asynccontextmanager
async def replayed(settings: Settings, service: str, log: Sequence[Incoming]) -> AsyncIterator[Any]:
    """The service's store on settings' (fresh) database after its handler took the log."""
    spec = service_spec(service)
    pool = open_pool(settings.database_url)
    await pool.open(wait=True)
    try:
        store = spec.store(pool)
        handler = spec.batch_handler(store, settings)
        for start in range(0, len(log), BATCH):
            await handler.handle(log[start : start + BATCH])
        yield store
    finally:
        await pool.close()
