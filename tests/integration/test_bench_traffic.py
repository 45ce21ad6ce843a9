"""The bench's traffic reading on the real broker and Postgres: records written to the topics,
read once by each service whose input a topic is, and rows inserted, updated and deleted."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from kafka import KafkaProducer

from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.traffic import read_traffic
from touchstone.tools.ops.lag import LagReader

pytestmark = pytest.mark.integration


def test_traffic_counts_records_once_produced_and_once_per_reader_and_every_row_write(
    fresh_database: Settings,
) -> None:
    shared, own, unread = (f"traffic.{kind}.{uuid.uuid4().hex[:8]}" for kind in "sou")
    ensure_topics(fresh_database.kafka, [shared, own, unread], 2)
    inputs = {"one": [shared], "two": [shared, own]}  # nobody reads `unread`
    reader = LagReader(fresh_database.kafka, inputs, "aiokafka")
    url = fresh_database.database_url
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE traffic_probe (n int PRIMARY KEY, v text)")
        before = read_traffic(reader, url, [unread])  # a new table: nothing to report yet
        producer = KafkaProducer(bootstrap_servers=fresh_database.kafka_bootstrap)
        for topic, count in ((shared, 7), (own, 3), (unread, 4)):
            for n in range(count):
                producer.send(topic, value=b"x", partition=n % 2)
        producer.flush()
        producer.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO traffic_probe SELECT n, 'a' FROM generate_series(1, 5) n")
            conn.execute("UPDATE traffic_probe SET v = 'b' WHERE n <= 2")
            conn.execute("DELETE FROM traffic_probe WHERE n = 5")
        moved = read_traffic(reader, url, [unread], settle=True).since(before)
    finally:
        reader.close()
    assert moved.produced == 7 + 3 + 4  # the topics asked for and every service's inputs
    assert moved.consumed == 7 * 2 + 3  # the shared topic by both services, `own` by one
    assert moved.row_writes == 5 + 2 + 1
