"""The audit trail: every command and every refused call, with who, what, when and from where,
as AuditRecords on touchstone.audit.v1 (kept forever); `touchstone audit` reads it back.

Services record through the gRPC guard (auth_interceptor.py); the `touchstone` command records
its own commands (replay, standards promotion). A record names ids, never personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from touchstone.audit.v1.audit_pb2 import AuditRecord
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import AUDIT, cloudevent_headers
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.platform.security.auth import Principal

log = logging.getLogger(__name__)

RECORD_TYPE = "touchstone.audit.v1.AuditRecord"
SEND_TIMEOUT_S = 2.0  # the longest a call's end waits for its record to be on the broker


def audit_record(
    *,
    service: str,
    method: str,
    caller: Principal | None,
    peer: str,
    outcome: str,
    detail: str = "",
    at: datetime | None = None,
) -> AuditRecord:
    """One record of a call."""
    return AuditRecord(
        record_id=str(uuid.uuid4()),
        at=to_timestamp(at or datetime.now(UTC)),
        service=service,
        method=method,
        subject=caller.subject if caller else "",
        roles=sorted(caller.roles) if caller else [],
        peer=peer,
        outcome=outcome,
        detail=detail,
    )


def headers_of(record: AuditRecord) -> tuple[tuple[str, bytes], ...]:
    """The CloudEvents headers the record travels with."""
    return cloudevent_headers(
        event_id=record.record_id,
        source=f"touchstone/{record.service}",
        type_=RECORD_TYPE,
        time=record.at.ToDatetime(UTC),
    )


def named_ids(request: Any) -> str:
    """What a command named, for its record: its *_id fields and how many of each list."""
    if not isinstance(request, Message):
        return "a stream of requests"
    parts = []
    for field in request.DESCRIPTOR.fields:
        value = getattr(request, field.name)
        if field.is_repeated and len(value):
            parts.append(f"{field.name}: {len(value)}")
        elif field.name.endswith("_id") and isinstance(value, str) and value:
            parts.append(f"{field.name}={value}")
    return " ".join(parts)


class KafkaAuditTrail:
    """Publishes records with aiokafka, waiting for the broker to have each: one producer per
    process, started once under a lock however many calls end at the same moment."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self._producer: Any = None
        self._starting = asyncio.Lock()

    async def record(self, record: AuditRecord) -> None:
        """Hand the record to the producer (batched, acknowledged in the background), waiting at
        most SEND_TIMEOUT_S; a broker that is away is logged (the call it records has already
        ended) and the next record tries a new producer. Stopping flushes what is pending."""
        try:
            delivery = await asyncio.wait_for(self._send(record), timeout=SEND_TIMEOUT_S)
        except Exception:
            log.exception("audit record %s of %s not published", record.record_id, record.method)
            await self.close()
            return
        delivery.add_done_callback(lambda done: _log_lost(done, record))

    async def _send(self, record: AuditRecord) -> asyncio.Future[Any]:
        producer = await self._started()
        delivery: asyncio.Future[Any] = await producer.send(
            AUDIT,
            record.SerializeToString(),
            key=record.subject.encode(),
            headers=list(headers_of(record)),
        )
        return delivery

    async def close(self) -> None:
        """Flush and stop the producer, if there is one."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _started(self) -> Any:
        async with self._starting:  # the first burst of calls waits for one producer
            if self._producer is None:
                from aiokafka import AIOKafkaProducer

                producer = AIOKafkaProducer(**self.kafka.producer_config())
                try:
                    await producer.start()
                except BaseException:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    raise
                self._producer = producer  # only a started producer is kept
            return self._producer


def _log_lost(delivery: asyncio.Future[Any], record: AuditRecord) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        log.error(
            "audit record %s of %s not published: %s",
            record.record_id,
            record.method,
            delivery.exception(),
        )


def publish_records(kafka: KafkaConnection, records: Iterable[AuditRecord]) -> None:
    """Publish records from a plain (not async) process, such as the `touchstone` command."""
    from kafka import KafkaProducer

    producer = KafkaProducer(**kafka.producer_config())
    try:
        for record in records:
            producer.send(
                AUDIT,
                key=record.subject.encode(),
                value=record.SerializeToString(),
                headers=list(headers_of(record)),
            )
        producer.flush()
    finally:
        producer.close()
