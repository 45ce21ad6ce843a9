"""The audit trail: every command and every refused call, with who, what, when and from where,
as AuditRecords on touchstone.audit.v1 (kept forever); `touchstone audit` reads it back.

Services record through the gRPC guard (auth_interceptor.py); the `touchstone` command records
its own commands (replay, standards promotion). A record names ids, never personal data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from touchstone.audit.v1.audit_pb2 import AuditRecord
from touchstone.common.auth import Principal
from touchstone.common.prototime import to_timestamp
from touchstone.common.topics import AUDIT, cloudevent_headers

log = logging.getLogger(__name__)

RECORD_TYPE = "touchstone.audit.v1.AuditRecord"


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
    """Publishes records with aiokafka, waiting for the broker to have each."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: Any = None

    async def record(self, record: AuditRecord) -> None:
        """Publish the record; a broker that is away is logged, the call itself goes on."""
        try:
            producer = await self._started()
            await producer.send_and_wait(
                AUDIT,
                record.SerializeToString(),
                key=record.subject.encode(),
                headers=list(headers_of(record)),
            )
        except Exception:
            log.exception("audit record %s of %s not published", record.record_id, record.method)

    async def close(self) -> None:
        """Flush and stop the producer, if it was started."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _started(self) -> Any:
        if self._producer is None:
            from aiokafka import AIOKafkaProducer

            self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap.split(","))
            await self._producer.start()
        return self._producer


def publish_records(bootstrap: str, records: Iterable[AuditRecord]) -> None:
    """Publish records from a plain (not async) process, such as the `touchstone` command."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","))
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
