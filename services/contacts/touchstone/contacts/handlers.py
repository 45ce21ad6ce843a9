"""Record touchpoints from Kafka: admit, record, and dead-letter what cannot be recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from touchstone.contacts.admission import Admitted, admit_many, decode_or_refuse, recorded_event
from touchstone.contacts.domain import (
    DEFAULT_INGEST_POLICY,
    IngestPolicy,
    Outcome,
    Violation,
    printable,
)
from touchstone.contacts.ports import (
    Arrival,
    ContactsStore,
    DeadLetter,
    RecordedTouchpoint,
    conflict_letter,
    gaps_recorded,
)
from touchstone.platform.messaging.progress import SOURCE_CLOCKS, SourceClocks
from touchstone.platform.messaging.topics import (
    TOUCHPOINTS_DLQ,
    Incoming,
    Outgoing,
    dead_letter_record,
    received_time,
)
from touchstone.platform.runtime.metrics import VOCABULARY_GAPS


def arrival_of(record: Incoming) -> Arrival:
    """The record's position, arrival time and original bytes."""
    return Arrival(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        received_at=received_time(record),
        key=record.key or b"",
        value=record.value or b"",
        headers=tuple(record.headers.items()),
    )


def rejection(record: Incoming, violations: Sequence[Violation]) -> DeadLetter:
    """The dead letter for an invalid record: every violation in the reason, the first field."""
    reason = printable("; ".join(f"{v.field}: {v.reason}" for v in violations), MAX_REASON)
    return DeadLetter(arrival_of(record), reason, violations[0].field)


def dead_letter_out(record: Incoming, letter: DeadLetter) -> Outgoing:
    """The record for touchpoints.dlq.v1: the original, untouched, plus why."""
    return dead_letter_record(
        record, TOUCHPOINTS_DLQ, letter.reason, letter.field, letter.arrival.received_at
    )


MAX_REASON = 2000


def count_vocabulary_gaps(rows: Sequence[RecordedTouchpoint], outcomes: Sequence[Outcome]) -> None:
    """Count, in the metric, the vocabulary gaps of the rows recorded now."""
    for gap in gaps_recorded(rows, outcomes):
        VOCABULARY_GAPS.labels(gap.journey_map, gap.stage, gap.kind).inc(gap.touchpoints)


class RecordTouchpoints:
    """The contacts batch handler: every record is recorded, a duplicate, or dead-lettered."""

    def __init__(
        self,
        store: ContactsStore,
        policy: IngestPolicy = DEFAULT_INGEST_POLICY,
        sources: SourceClocks = SOURCE_CLOCKS,
    ) -> None:
        self.store = store
        self.policy = policy
        self.sources = sources  # how far each input partition has come (common/progress.py)

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Record the batch in one transaction; re-emit duplicates so a crash loses nothing."""
        admitted: list[tuple[Admitted, Incoming]] = []
        rejected: list[tuple[DeadLetter, Incoming]] = []
        decoded = [decode_or_refuse(r.value, r.content_type, self.policy) for r in batch]
        received = [received_time(r) for r in batch]
        results = await admit_many(decoded, received, self.policy, self.store)
        for record, result in zip(batch, results, strict=True):
            if isinstance(result, Admitted):
                admitted.append((result, record))
            else:
                rejected.append((rejection(record, result), record))
        outcomes = await self.store.record(
            [a.row for a, _ in admitted],
            [arrival_of(r) for _, r in admitted],
            [d for d, _ in rejected],
        )
        count_vocabulary_gaps([a.row for a, _ in admitted], outcomes)
        handled_at = datetime.now(UTC)
        for a, record in admitted:
            self.sources.saw(record.partition, a.row.occurred_at, handled_at)
        outgoing = [dead_letter_out(r, d) for d, r in rejected]
        for (a, record), outcome in zip(admitted, outcomes, strict=True):
            if outcome is Outcome.CONFLICT:
                outgoing.append(dead_letter_out(record, conflict_letter(a.row, arrival_of(record))))
            else:
                outgoing.append(recorded_event(a))
        return outgoing
