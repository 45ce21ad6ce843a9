"""The bench's traffic reading on the real broker and Postgres: records written to a topic, read
by each service whose input it is, and rows inserted, updated and deleted."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from kafka import KafkaProducer

from touchstone.common.kafka_admin import ensure_topics
from touchstone.common.settings import Settings
from touchstone.lag import LagReader
from touchstone.traffic import read_traffic

pytestmark = pytest.mark.integration


def test_traffic_counts_records_once_produced_and_once_per_reader_and_every_row_write(
    fresh_database: Settings,
) -> None:
    topic = f"traffic.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(fresh_database.kafka, [topic], 2)
    reader = LagReader(fresh_database.kafka, {"one": [topic], "two": [topic]}, "aiokafka")
    url = fresh_database.database_url
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE traffic_probe (n int PRIMARY KEY, v text)")
        before = read_traffic(reader, url, [topic])
        producer = KafkaProducer(bootstrap_servers=fresh_database.kafka_bootstrap)
        for n in range(7):
            producer.send(topic, value=b"x", partition=n % 2)
        producer.flush()
        producer.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO traffic_probe SELECT n, 'a' FROM generate_series(1, 5) n")
            conn.execute("UPDATE traffic_probe SET v = 'b' WHERE n <= 2")
            conn.execute("DELETE FROM traffic_probe WHERE n = 5")
        moved = read_traffic(reader, url, [topic]).since(before)  # the writer's backend
        # reported its counts as its connection closed
    finally:
        reader.close()
    assert (moved.produced, moved.consumed) == (7, 14)  # two services read the topic
    assert moved.row_writes == 5 + 2 + 1
