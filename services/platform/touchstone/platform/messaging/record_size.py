"""Records that fit the broker: one limit for producers and topics, and dead letters cut to it.

TOUCHSTONE_MAX_RECORD_BYTES is both every producer's `max_request_size` and every topic's
`max.message.bytes` (`touchstone topics`, deploy/), so what a service may send is what the broker
takes. A dead letter copies a record it could not handle, which may itself be too big (a
producer with a larger limit wrote it): its copy keeps the head of the body and says what was cut
(`dlq_truncated`, `dlq_size`, `dlq_sha256`); the original coordinates are in its `dlq_topic`,
`dlq_partition` and `dlq_offset` headers, and contacts keeps the whole bytes in Postgres.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from touchstone.platform.messaging.topics import Outgoing

DEFAULT_MAX_RECORD_BYTES = 1_048_576  # Kafka's own default for message.max.bytes
FRAMING_BYTES = 512  # a record batch's header and one record's lengths, attributes and deltas
KEPT_KEY_BYTES = 1024  # a dead letter's key past this is cut: it only picks the partition
DEAD_LETTER = "dlq_reason"  # the header every dead letter carries (topics.dead_letter_record)


class RecordTooLarge(ValueError):
    """A record the broker would refuse for its size: not worth retrying."""


def record_bytes(record: Outgoing) -> int:
    """What the record costs against the producer's and topic's limit (an upper bound)."""
    return FRAMING_BYTES + len(record.key) + len(record.value) + header_bytes(record.headers)


def header_bytes(headers: Sequence[tuple[str, bytes]]) -> int:
    """What headers cost in a record: names, values and their varint lengths (at most 10)."""
    return sum(len(name.encode()) + len(value) + 10 for name, value in headers)


def fitted(record: Outgoing, max_bytes: int) -> Outgoing:
    """The record as it can be sent: itself, a dead letter cut to fit, or RecordTooLarge."""
    size = record_bytes(record)
    if size <= max_bytes:
        return record
    if any(name == DEAD_LETTER for name, _ in record.headers):
        return cut_dead_letter(record, max_bytes)
    raise RecordTooLarge(
        f"a {record.topic} record of {size:,} bytes is over TOUCHSTONE_MAX_RECORD_BYTES "
        f"({max_bytes:,})"
    )


def sendable_or_dead_letter(record: Outgoing, dead_letter_topic: str, max_bytes: int) -> Outgoing:
    """The record if it fits, else a dead letter of it (cut to fit) saying where it was going:
    for what has no input to dead-letter instead (an outbox's rows)."""
    size = record_bytes(record)
    if size <= max_bytes:
        return record
    why = f"a {record.topic} record of {size:,} bytes is over TOUCHSTONE_MAX_RECORD_BYTES"
    headers = (
        *record.headers,
        (DEAD_LETTER, why.encode()),
        ("dlq_field", b"value"),
        ("dlq_topic", record.topic.encode()),
    )
    return cut_dead_letter(replace(record, topic=dead_letter_topic, headers=headers), max_bytes)


def cut_dead_letter(letter: Outgoing, max_bytes: int) -> Outgoing:
    """A dead letter that fits: the head of its body, its own headers, and what was cut.

    The original's headers stay when they take at most a quarter of the limit (otherwise only
    the dlq_* ones do, and `dlq_headers_dropped` counts the rest); the body keeps what is left.
    """
    own = [(n, v) for n, v in letter.headers if n.startswith("dlq_")]
    theirs = [(n, v) for n, v in letter.headers if not n.startswith("dlq_")]
    if header_bytes(theirs) > max_bytes // 4:
        own.append(("dlq_headers_dropped", str(len(theirs)).encode()))
        theirs = []
    key = letter.key[:KEPT_KEY_BYTES]
    cut = [
        ("dlq_truncated", b"1"),
        ("dlq_size", str(len(letter.value)).encode()),
        ("dlq_sha256", hashlib.sha256(letter.value).hexdigest().encode()),
    ]
    headers = (*theirs, *own, *cut)
    room = max_bytes - record_bytes(Outgoing(letter.topic, key, b"", headers))
    return replace(letter, key=key, value=letter.value[: max(room, 0)], headers=headers)
