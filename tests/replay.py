"""Replaying the log: a service's real handler and Postgres store fed its topics from offset 0."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from kafka import KafkaProducer

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.log_reader import read_log
from touchstone.platform.messaging.topics import Incoming
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.simulator import generate_visits
from touchstone.tools.ops.service_specs import service_spec

BATCH = 500
DAY = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)  # Monday 07:30 in Ho Chi Minh City


def recorded_day(visits: int) -> list[tuple[bytes, bytes]]:
    """(key, TouchpointRecorded) for a simulated day, in the order contacts would publish."""
    touchpoints = [tp for visit in generate_visits(11, DAY, visits) for tp in visit]
    touchpoints.sort(key=lambda tp: tp.occurred_at.ToDatetime())  # producers publish live
    records = []
    for n, tp in enumerate(touchpoints):
        customer = (
            tp.customer.customer_id or f"{tp.customer.identity.kind}:{tp.customer.identity.value}"
        )
        recorded = TouchpointRecorded(
            event_id=f"rec-{n}", touchpoint=tp, customer_id=customer, visit_id=tp.visit_id
        )
        records.append((customer.encode(), recorded.SerializeToString()))
    return records


def recorded_day_on_broker(bootstrap: str, visits: int, partitions: int) -> list[Incoming]:
    """A simulated day published on a new topic of the broker, as read back from it."""
    topic = f"recorded-{uuid.uuid4().hex[:8]}"
    ensure_topics(KafkaConnection(bootstrap), [topic], partitions)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    for key, value in recorded_day(visits):
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    return read_log(KafkaConnection(bootstrap), [topic], lambda r: True)


def replay_into(
    settings: Settings, service: str, log: Sequence[Incoming], batch: int = BATCH
) -> None:
    """Feed the log to the service's handler, into settings' (fresh) database, in batches of
    this size; the tables are what the caller then reads."""

    async def take() -> None:
        async with replayed(settings, service, log, batch) as store:
            assert store is not None

    asyncio.run(take())


def tables_after(
    infra: Settings,
    service: str,
    log: Sequence[Incoming],
    queries: Mapping[str, str],
    batch: int = BATCH,
) -> dict[str, list[Any]]:
    """What each query reads after the service took the log, in batches of this size, into a
    fresh database on the test server (dropped afterwards)."""
    from tests.conftest import create_database

    settings, drop = create_database(infra)
    try:
        replay_into(settings, service, log, batch)
        with psycopg.connect(settings.database_url) as conn:
            return {name: conn.execute(query).fetchall() for name, query in queries.items()}
    finally:
        drop()


@asynccontextmanager
async def replayed(
    settings: Settings, service: str, log: Sequence[Incoming], batch: int = BATCH
) -> AsyncIterator[Any]:
    """The service's store on settings' (fresh) database after its handler took the log in
    batches of this size."""
    spec = service_spec(service)
    pool = open_pool(settings.database_url)
    await pool.open(wait=True)
    try:
        store = spec.store(pool, settings)
        handler = spec.batch_handler(store, settings)
        for start in range(0, len(log), batch):
            await handler.handle(log[start : start + batch])
        yield store
    finally:
        await pool.close()
