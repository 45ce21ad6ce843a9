"""The transactional outbox: a command's events are written in its transaction, then relayed.

A gRPC command never writes the database and then produces to Kafka as two steps: it adds its
events to `<schema>.outbox` in the same transaction as its state change, and OutboxRelay
publishes them (at least once, in id order per relay) and deletes what the broker has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import mode
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from touchstone.platform.messaging.consumers import publish
from touchstone.platform.messaging.progress import GRPC_SOURCE, REPORT_EVERY_S, progress_records
from touchstone.platform.messaging.record_size import sendable_or_dead_letter
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    TOUCHPOINTS,
    Outgoing,
    headers_from_json,
    headers_to_json,
)
from touchstone.platform.runtime.outages import log_failure
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.tracing import traced

log = logging.getLogger(__name__)

RELAY_BATCH = 500
IDLE_POLL_S = 0.05  # how often a relay looks while busy, or just woken (a write commits later)
HOT_S = 1.0  # how long after its last rows or wake-up it keeps looking that often
QUIET_POLL_S = 1.0  # then how often: rows other processes (operators' tools) write wait this long
_WRITTEN: dict[str, asyncio.Event] = {}  # each schema's relay, woken by this process's writes

ADD = """
INSERT INTO {schema}.outbox (topic, key, value, headers)
SELECT topic, key, value, headers::jsonb
FROM unnest(%(topic)b::text[], %(key)b::bytea[], %(value)b::bytea[], %(headers)b::text[])
    AS t(topic, key, value, headers)
"""

TAKE = """
SELECT id, topic, key, value, headers FROM {schema}.outbox
ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
"""

DELETE = "DELETE FROM {schema}.outbox WHERE id = ANY(%b)"
OLDEST = "SELECT min(created_at) FROM {schema}.outbox"


def _query(template: str, schema: str) -> sql.Composed:
    return sql.SQL(template).format(schema=sql.Identifier(schema))


async def add_to_outbox(conn: AsyncConnection, schema: str, records: Sequence[Outgoing]) -> None:
    """Queue records for publication, inside the caller's transaction (and wake this process's
    relay of the schema, which looks every IDLE_POLL_S while it is woken)."""
    if records:
        records = traced(records)  # each carries the trace of the call or batch that made it
        if (written := _WRITTEN.get(schema)) is not None:
            written.set()
        await conn.execute(
            _query(ADD, schema),
            {
                "topic": [r.topic for r in records],
                "key": [r.key for r in records],
                "value": [r.value for r in records],
                "headers": [headers_to_json(r.headers) for r in records],
            },
        )


class OutboxRelay(mode.Service):
    """Publishes a schema's outbox to Kafka and deletes what the broker acknowledged."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        schema: str,
        settings: Settings,
        dead_letter_topic: str,
        reports_progress: bool = False,
        **kwargs: Any,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.dead_letter_topic = dead_letter_topic
        self.reports_progress = reports_progress  # contacts: its gRPC ingest is a lanes' source
        self._next_report = 0.0
        self.settings = settings
        self._producer: Any = None
        self._written = asyncio.Event()
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaProducer

        _WRITTEN[self.schema] = self._written  # this process's writes to the schema wake it
        self._producer = AIOKafkaProducer(**self.settings.kafka.producer_config(linger_ms=2))
        await self._producer.start()

    async def on_stop(self) -> None:
        if _WRITTEN.get(self.schema) is self._written:
            del _WRITTEN[self.schema]
        if self._producer is not None:
            await self._producer.stop()

    @property
    def max_bytes(self) -> int:
        return self.settings.max_record_bytes

    def sendable(self, record: Outgoing) -> Outgoing:
        """The record, or (too big for the broker: it would block the outbox) a dead letter."""
        sent = sendable_or_dead_letter(record, self.dead_letter_topic, self.max_bytes)
        if sent is not record:
            log.error("outbox of %s: %s record too big; dead-lettered", self.schema, record.topic)
        return sent

    @mode.Service.task
    async def _relay(self) -> None:
        busy_at = time.monotonic()  # when the relay last had rows, or was woken
        while not self.should_stop:
            self._written.clear()  # written from here on: relayed by the look below or the next
            try:
                relayed = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, f"outbox relay of {self.schema} failed", error)
                relayed = 0
            if self.reports_progress and time.monotonic() >= self._next_report:
                self._next_report = time.monotonic() + REPORT_EVERY_S
                await self._report_progress()
            if relayed:
                busy_at = time.monotonic()
                continue
            if time.monotonic() - busy_at < HOT_S:
                await asyncio.sleep(IDLE_POLL_S)  # a write may not have committed yet
            elif await _woken(self._written, QUIET_POLL_S):
                busy_at = time.monotonic()

    async def _report_progress(self) -> None:
        """Tell every lane how far contacts' gRPC ingest has come: up to the oldest row still
        waiting here, or now when none is (progress.py)."""
        try:
            async with self.pool.connection() as conn:
                query = _query(OLDEST, self.schema)
                (oldest,) = await (await conn.execute(query)).fetchone() or (None,)
            claim = oldest or datetime.now(UTC)
            partitions_in = len(await self._producer.partitions_for(TOUCHPOINTS))
            lanes = len(await self._producer.partitions_for(CONTACTS_RECORDED))
            records = progress_records({GRPC_SOURCE: claim}, partitions_in, lanes)
            await publish(self._producer, records, self.max_bytes)
        except Exception as error:  # told again at the next report
            log_failure(log, f"outbox of {self.schema}: progress not told", error)

    async def relay_once(self) -> int:
        """Publish and delete one batch of the outbox; how many records it held."""
        async with self.pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(_query(TAKE, self.schema), (RELAY_BATCH,))).fetchall()
            if not rows:
                return 0
            records = [
                Outgoing(topic, bytes(key), bytes(value), headers_from_json(headers))
                for _, topic, key, value, headers in rows
            ]
            await publish(self._producer, [self.sendable(r) for r in records], self.max_bytes)
            await conn.execute(_query(DELETE, self.schema), ([row[0] for row in rows],))
        return len(rows)


async def _woken(event: asyncio.Event, within_s: float) -> bool:
    """Whether the event was set within the time."""
    try:
        await asyncio.wait_for(event.wait(), within_s)
    except TimeoutError:
        return False
    return True
