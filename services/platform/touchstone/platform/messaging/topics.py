"""Topic names and the CloudEvents binary-mode headers every Touchstone event carries."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

TOUCHPOINTS = "touchpoints.v1"
TOUCHPOINTS_DLQ = "touchpoints.dlq.v1"
CONTACTS_RECORDED = "contacts.recorded.v1"
CONTACTS_PROFILES = "contacts.profiles.v1"
CONTACTS_KEYS = "contacts.keys.v1"  # customers' keys for what profile events seal (compacted)
JOURNEY_MOMENTS = "journey.moments.v1"
JOURNEY_VISITS = "journey.visits.v1"
JOURNEY_DLQ = "journey.dlq.v1"
JOURNEY_STANDARDS = "journey.standards.v1"  # standards versions promoted to live
LOYALTY_VALUES = "loyalty.values.v1"
LOYALTY_DLQ = "loyalty.dlq.v1"
NOTIFY_CASES = "notify.cases.v1"
NOTIFY_DLQ = "notify.dlq.v1"
NOTIFY_TASKS = "notify.tasks.v1"  # staff and duty-manager work, keyed by site
AUDIT = "touchstone.audit.v1"  # commands and refused calls: who, what, when, from where

ALL_TOPICS = (
    TOUCHPOINTS,
    TOUCHPOINTS_DLQ,
    CONTACTS_RECORDED,
    CONTACTS_PROFILES,
    CONTACTS_KEYS,
    JOURNEY_MOMENTS,
    JOURNEY_VISITS,
    JOURNEY_DLQ,
    JOURNEY_STANDARDS,
    LOYALTY_VALUES,
    LOYALTY_DLQ,
    NOTIFY_CASES,
    NOTIFY_DLQ,
    NOTIFY_TASKS,
    AUDIT,
)

# How long each topic keeps its records. The log is the truth: every topic a service rebuilds
# its state from is kept forever (-1), so `touchstone replay` can start at offset 0. Producers'
# raw records, the intake touchpoints.v1 and the dead letters, are kept 30 days: nothing rebuilds
# from them (contacts keeps what it admits in its tables, and publishes it on contacts.recorded.v1
# without personal data), dead letters wait that long for an operator, and an erased customer's
# identities in producers' bytes are gone within a month. Assumption, not from the domain: no
# outage keeps contacts from reading its intake that long. Tasks are a live feed for staff apps,
# republished on every change.
KEEP_FOREVER_MS = -1
RAW_RECORDS_KEPT_MS = 30 * 24 * 3600 * 1000
TASKS_KEPT_MS = 7 * 24 * 3600 * 1000
RETENTION_MS = {
    name: RAW_RECORDS_KEPT_MS
    if name.endswith(".dlq.v1") or name == TOUCHPOINTS
    else TASKS_KEPT_MS
    if name == NOTIFY_TASKS
    else KEEP_FOREVER_MS
    for name in ALL_TOPICS
}
# Compacted topics keep each key's last record. Customers' keys are: an erased customer's key is
# superseded by a record without one, and the log must lose the old record within a bound, not
# whenever a segment happens to roll. A day, an assumption not from the domain: erasure requests
# are answered within a month (GDPR art. 12(3)); a day leaves the rest for backups to age out.
COMPACTED = (CONTACTS_KEYS,)
MAX_COMPACTION_LAG_MS = 24 * 3600 * 1000


def topic_config(name: str, max_record_bytes: int) -> dict[str, str]:
    """The broker configuration a Touchstone topic is created with: its retention, and the
    record limit its producers keep to (TOUCHSTONE_MAX_RECORD_BYTES, record_size.py)."""
    config = {
        "retention.ms": str(RETENTION_MS.get(name, KEEP_FOREVER_MS)),
        "max.message.bytes": str(max_record_bytes),
    }
    if name in COMPACTED:
        config |= {
            "cleanup.policy": "compact",
            "max.compaction.lag.ms": str(MAX_COMPACTION_LAG_MS),
        }
    return config


PROTOBUF = "application/protobuf"
JSON = "application/json"


@dataclass(frozen=True)
class Incoming:
    """One record as a consumer received it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes]
    timestamp_ms: int

    @property
    def content_type(self) -> str:
        """The content-type header, defaulting to protobuf."""
        return content_type_of(self.headers)


def content_type_of(headers: Mapping[str, bytes]) -> str:
    """The media type a record's headers declare, lower-cased (RFC 6838), protobuf by default."""
    raw = headers.get("content-type") or headers.get("ce_datacontenttype")
    return raw.decode("utf-8", "replace").split(";")[0].strip().lower() if raw else PROTOBUF


@dataclass(frozen=True)
class Outgoing:
    """One record a handler wants published."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None  # None: the key picks it (the producer's partitioner)


def cloudevent_headers(
    *, event_id: str, source: str, type_: str, time: datetime | None
) -> tuple[tuple[str, bytes], ...]:
    """CloudEvents binary-mode headers for a protobuf event."""
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", type_.encode()),
        ("content-type", PROTOBUF.encode()),
    ]
    if time is not None:
        headers.append(("ce_time", time.isoformat().encode()))
    return tuple(headers)


def header_map(raw: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Headers as a dict (last value wins), whatever shape the client library gave."""
    if raw is None:
        return {}
    items = raw.items() if isinstance(raw, Mapping) else raw
    return {str(k): bytes(v) if v is not None else b"" for k, v in items}


def dead_letter_record(
    record: Incoming, dlq_topic: str, reason: str, field: str, received_at: datetime
) -> Outgoing:
    """The record as it arrived (key, value, headers untouched), plus dlq_* headers saying why."""
    source = record.headers.get("ce_source", b"")
    headers = (
        *record.headers.items(),
        ("dlq_reason", reason.encode()),
        ("dlq_field", field.encode()),
        ("dlq_source", source),
        ("dlq_topic", record.topic.encode()),
        ("dlq_partition", str(record.partition).encode()),
        ("dlq_offset", str(record.offset).encode()),
        ("dlq_time", received_at.isoformat().encode()),
    )
    return Outgoing(dlq_topic, record.key or b"", record.value or b"", headers)


def received_time(record: Incoming) -> datetime:
    """When the broker got the record: a deterministic 'now' for validation and dead letters."""
    return datetime.fromtimestamp(record.timestamp_ms / 1000, tz=UTC)


def headers_to_json(headers: Sequence[tuple[str, bytes]]) -> str:
    """Headers as JSON for storage: [[name, base64 value], ...], order and repeats kept."""
    return json.dumps([[name, base64.b64encode(value).decode()] for name, value in headers])


def headers_from_json(stored: Sequence[Sequence[str]]) -> tuple[tuple[str, bytes], ...]:
    """The headers headers_to_json stored (as Postgres returns the jsonb)."""
    return tuple((name, base64.b64decode(value)) for name, value in stored)
