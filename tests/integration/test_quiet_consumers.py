"""An idle service stays quiet, on the real broker and Postgres: its consumer fetches seldom
once nothing comes and takes the first record that does; its outbox relay looks seldom unless
this process writes to the outbox, and still finds rows other processes wrote."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg import AsyncConnection

from touchstone.platform.messaging import consumers, outbox
from touchstone.platform.messaging.consumers import BatchConsumerService, BatchWindow, fetch_wait_ms
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.outbox import OutboxRelay, add_to_outbox
from touchstone.platform.messaging.topics import Incoming, Outgoing
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration


def test_a_consumer_waits_the_batch_window_while_records_come_and_the_idle_wait_after() -> None:
    settings = Settings(batch_within_s=0.02, idle_wait_s=0.25)
    assert fetch_wait_ms(0.0, settings) == 20
    assert fetch_wait_ms(consumers.IDLE_AFTER_S - 0.01, settings) == 20
    assert fetch_wait_ms(consumers.IDLE_AFTER_S, settings) == 250
    assert fetch_wait_ms(60.0, replace(settings, idle_wait_s=0.0)) == 20  # never below the window


def test_a_small_batch_waits_to_fill_at_most_its_linger_and_a_full_one_waits_for_nothing() -> None:
    window = BatchWindow(fill=10, linger_s=0.2, size=500)
    assert window.left(1, 0.0) == pytest.approx(0.2)
    assert window.left(9, 0.15) == pytest.approx(0.05)
    assert window.left(9, 0.25) == 0.0  # waited its linger: closed
    assert window.left(10, 0.0) == 0.0  # filled: closed
    assert BatchWindow(fill=10, linger_s=0.2, size=4).left(4, 0.0) == 0.0  # never past size
    assert BatchWindow(fill=1, linger_s=5.0, size=500).left(1, 0.0) == 0.0  # a fill of one


class Collects:
    def __init__(self) -> None:
        self.values: list[bytes] = []
        self.batches: list[list[bytes]] = []

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        self.values.extend(r.value for r in batch)
        self.batches.append([r.value for r in batch])
        return []


def test_records_trickling_in_are_handled_as_one_batch_once_it_fills(infra: Settings) -> None:
    topic = f"linger.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(infra.kafka, [topic], 1)
    settings = replace(infra, batch_fill=3, batch_linger_s=30.0)  # fills long before its linger
    handler = Collects()

    async def scenario() -> None:
        service = BatchConsumerService(f"linger-{topic}", [topic], handler, settings, "dlq")
        await service.start()
        try:
            await _until(service.holds_partitions)
            producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
            for n in range(3):
                producer.send(topic, f"r{n}".encode()).get(timeout=10)
                await asyncio.sleep(0.3)  # each its own fetch
            producer.close()
            await _until(lambda: len(handler.values) == 3)
            assert handler.batches == [[b"r0", b"r1", b"r2"]]
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_an_idle_consumer_fetches_seldom_and_still_takes_the_next_record(
    infra: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "IDLE_AFTER_S", 0.3)
    topic = f"quiet.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(infra.kafka, [topic], 2)
    settings = replace(infra, batch_within_s=0.02, idle_wait_s=0.4)
    handler = Collects()

    async def scenario() -> None:
        service = BatchConsumerService(f"quiet-{topic}", [topic], handler, settings, "dlq")
        await service.start()
        try:
            fetcher = service._consumer._fetcher
            await _until(lambda: fetcher._fetch_max_wait_ms == 400)  # idle: nothing came
            producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
            producer.send(topic, b"after the lull", partition=1).get(timeout=10)
            producer.close()
            await _until(lambda: handler.values == [b"after the lull"])
            assert fetcher._fetch_max_wait_ms == 20  # busy again
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_a_relay_is_woken_by_its_process_writes_and_looks_for_other_writers_rows(
    fresh_database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"relayed.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(fresh_database.kafka, [topic], 1)
    row = Outgoing(topic, b"k", b"", ())

    async def scenario() -> None:
        pool = open_pool(fresh_database.database)
        await pool.open()
        monkeypatch.setattr(outbox, "QUIET_POLL_S", 3600.0)  # quiet, it would never look again
        relay = OutboxRelay(pool, "contacts", fresh_database, "dlq")
        await relay.start()
        try:
            await asyncio.sleep(outbox.HOT_S + 0.5)  # quiet now: nothing was written
            async with pool.connection() as conn, conn.transaction():
                await add_to_outbox(conn, "contacts", [replace(row, value=b"woken")])
            await _until(lambda: _values(fresh_database, topic) == [b"woken"])
            monkeypatch.setattr(outbox, "QUIET_POLL_S", 0.2)  # another process's row, found
            async with await AsyncConnection.connect(fresh_database.database_url) as other:
                await other.execute(
                    "INSERT INTO contacts.outbox (topic, key, value, headers)"
                    " VALUES (%s, 'k', 'by another process', '[]')",
                    (topic,),
                )
                await other.commit()
            await _until(lambda: _values(fresh_database, topic)[1:] == [b"by another process"])
        finally:
            await relay.stop()
            await pool.close()

    asyncio.run(scenario())


async def _until(holds: object, timeout_s: float = 30.0) -> None:
    """Wait until holds() is true (a functional wait, generous: no timing is asserted)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not holds():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.05)


def _values(settings: Settings, topic: str) -> list[bytes]:
    reader = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, consumer_timeout_ms=500)
    try:
        reader.assign([TopicPartition(topic, 0)])
        reader.seek_to_beginning()
        return [m.value for m in reader]
    finally:
        reader.close()


def test_a_consumer_stopped_while_records_come_stops_without_crashing(
    infra: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"stop.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(infra.kafka, [topic], 1)
    settings = replace(infra, batch_fill=1000, batch_linger_s=5.0)  # fetching to fill a batch

    async def scenario() -> BatchConsumerService:
        service = BatchConsumerService(f"stop-{topic}", [topic], Collects(), settings, "dlq")
        await service.start()
        await _until(service.holds_partitions)
        producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=0)
        for n in range(20):  # records keep coming while it stops
            producer.send(topic, f"r{n}".encode())
            await asyncio.sleep(0.05)
            if n == 10:
                stopping = asyncio.create_task(service.stop())
        await stopping
        producer.close()
        return service

    with caplog.at_level(logging.WARNING):
        service = asyncio.run(scenario())
    assert not service._crashed.is_set()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
