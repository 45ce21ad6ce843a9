"""Where personal data or secrets could be left after an erasure: every service's tables, every
topic (keys, values and headers, as raw bytes), the services' logs and their metrics."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterable, Sequence

import psycopg
from kafka import KafkaConsumer, TopicPartition

from touchstone.platform.messaging.topics import ALL_TOPICS, TOUCHPOINTS, TOUCHPOINTS_DLQ
from touchstone.platform.runtime.settings import SERVICES, Settings

# Producers' own bytes, kept 30 days (topics.RAW_RECORDS_KEPT_MS) and never rebuilt from: an
# erased customer's identities in them are gone with the records. Every other topic is searched.
PRODUCERS_BYTES = (TOUCHPOINTS, TOUCHPOINTS_DLQ)
SEARCHED_TOPICS = tuple(t for t in ALL_TOPICS if t not in PRODUCERS_BYTES)


def spellings(secrets: Iterable[str]) -> list[str]:
    """Each secret as given and lower-cased (how contacts normalises an address)."""
    return sorted({*secrets, *(s.lower() for s in secrets)})


def tables_holding(settings: Settings, secrets: Sequence[str]) -> list[str]:
    """Every table in every service's schema with a row holding a secret (text, or hex in bytea)."""
    patterns = [f"%{s.lower()}%" for s in secrets] + [f"%{s.encode().hex()}%" for s in secrets]
    found = []
    with psycopg.connect(settings.database_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE'",
            (list(SERVICES),),
        ).fetchall()
        for schema, table in tables:
            query = f'SELECT count(*) FROM "{schema}"."{table}" t WHERE lower(t::text) LIKE ANY(%s)'
            count = conn.execute(query, (patterns,)).fetchone()
            if count and count[0]:
                found.append(f"{schema}.{table}")
    return found


def topics_holding(
    settings: Settings, secrets: Sequence[str], topics: Sequence[str] = SEARCHED_TOPICS
) -> list[str]:
    """Where on the topics (to their end offsets now) a secret shows in any spelling, in a
    record's key, value or headers: "topic: secret" for each."""
    wanted = [s.encode() for s in spellings(secrets)]
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        consumer_timeout_ms=200,
        max_partition_fetch_bytes=settings.kafka.fetch_bytes,
    )
    found: set[str] = set()
    try:
        for topic in topics:
            partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)
            deadline = time.monotonic() + 20
            while any(consumer.position(p) < end[p] for p in partitions):
                assert time.monotonic() < deadline, f"{topic} could not be read to its end"
                for m in consumer:
                    raw = b"\0".join(
                        [m.key or b"", m.value or b"", *(n.encode() + v for n, v in m.headers)]
                    )
                    found.update(f"{topic}: {s.decode()}" for s in wanted if s in raw)
    finally:
        consumer.close()
    return sorted(found)


def found_in_logs_or_metrics(settings: Settings, secrets: Iterable[str]) -> list[str]:
    """Where any secret shows in the services' logs or /metrics."""
    places = {
        str(p): p.read_text(errors="replace") for p in (settings.state_dir / "logs").glob("*")
    }
    for name, port in settings.metrics_ports.items():
        with urllib.request.urlopen(f"http://{settings.grpc_host}:{port}/metrics") as page:
            places[f"{name} /metrics"] = page.read().decode()
    assert len(places) > len(settings.metrics_ports)  # logs were read too
    return [f"{where}: {s}" for where, text in places.items() for s in secrets if s in text]
