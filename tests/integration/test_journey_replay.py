"""Dropping journey's state and replaying its input gives row-for-row the same state.

A simulated day of recorded touchpoints (supermarket and phone, messages and callbacks) goes
onto the real broker; journey's handler takes it from offset 0 into a fresh Postgres database,
then again into another in batches of another size. Moments, visits with their verdicts,
deadlines, the event clock and the records written for publication are identical.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer

from journey.service import PostgresJourney, scorer
from tests.conftest import create_database
from tests.replay import read_log
from touchstone.common.kafka_admin import ensure_topics
from touchstone.common.pg import open_pool
from touchstone.common.settings import Settings
from touchstone.common.topics import Incoming
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.simulator import generate_visits

pytestmark = pytest.mark.integration
DAY = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)  # Monday 07:30 in Ho Chi Minh City
TABLES = {
    "moments": "SELECT * FROM journey.moments ORDER BY moment_id",
    "visits": "SELECT * FROM journey.visits ORDER BY visit_id",
    "deadlines": "SELECT * FROM journey.deadlines ORDER BY deadline_id",
    "clock": "SELECT * FROM journey.event_clock",
    "published": "SELECT topic, key, value FROM journey.outbox ORDER BY topic, key, value",
}


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


def journey_state(infra: Settings, log: list[Incoming], batch: int) -> dict[str, list[Any]]:
    """Every journey table after the handler took the log in batches of this size."""
    settings, drop = create_database(infra)

    async def take() -> None:
        pool = open_pool(settings.database_url)
        await pool.open(wait=True)
        try:
            handler = scorer(PostgresJourney(pool), settings)
            for start in range(0, len(log), batch):
                await handler.handle(log[start : start + batch])
        finally:
            await pool.close()

    try:
        asyncio.run(take())
        with psycopg.connect(settings.database_url) as conn:
            return {name: conn.execute(query).fetchall() for name, query in TABLES.items()}
    finally:
        drop()


def test_replaying_journeys_input_rebuilds_every_row_the_same(infra: Settings) -> None:
    topic = f"replay-{uuid.uuid4().hex[:8]}"
    ensure_topics(infra.kafka_bootstrap, [topic], 1)
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=5)
    for key, value in recorded_day(600):
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    log = read_log(infra.kafka_bootstrap, [topic], lambda r: True)
    assert len(log) > 3000

    first = journey_state(infra, log, 500)
    again = journey_state(infra, log, 73)
    assert {name: len(rows) for name, rows in first.items()} == {
        name: len(rows) for name, rows in again.items()
    }
    for name in TABLES:
        assert first[name] == again[name], f"journey.{name} differs after the replay"
    completed = [row for row in first["visits"] if row[9] is not None]  # completed_at
    assert len(completed) > 100 and first["deadlines"], (
        "the day completes visits and opens deadlines"
    )
    assert any(row[-1] for row in first["deadlines"]), "and misses some"
    assert first["clock"][0][1] > DAY + timedelta(hours=6)
