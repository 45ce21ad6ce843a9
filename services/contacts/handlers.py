"""Record touchpoints: decode, validate, resolve, store; dead-letter what cannot be recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from contacts.codec import UndecodableTouchpoint, decode_touchpoint, facts_of
from contacts.domain import (
    DEFAULT_FUTURE_TOLERANCE,
    Violation,
    normalise_identity,
    resolve_customer_id,
    resolve_visit_id,
    validate,
)
from contacts.store import ContactsStore, DeadLetter, RecordedTouchpoint
from touchstone.common.ids import derived_id
from touchstone.common.topics import (
    CONTACTS_RECORDED,
    TOUCHPOINTS_DLQ,
    Incoming,
    Outgoing,
    cloudevent_headers,
    dead_letter_record,
    received_time,
)
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint

SOURCE = "touchstone/contacts"
RECORDED_TYPE = "touchstone.contacts.v1.TouchpointRecorded"


@dataclass(frozen=True)
class Admitted:
    """A touchpoint that passed validation, with what contacts resolved for it."""

    touchpoint: Touchpoint
    row: RecordedTouchpoint


def admit(record: Incoming, future_tolerance: timedelta) -> Admitted | list[Violation]:
    """Decode and validate one record; the violations if it cannot be recorded."""
    try:
        touchpoint = decode_touchpoint(record.value, record.content_type)
    except UndecodableTouchpoint as error:
        return [Violation("value", str(error))]
    facts = facts_of(touchpoint)
    violations = validate(facts, received_time(record), future_tolerance)
    if violations:
        return violations
    customer_id = resolve_customer_id(facts)
    identity = None
    if facts.identity_kind:
        identity = (
            facts.identity_kind,
            normalise_identity(facts.identity_kind, facts.identity_value),
        )
    assert facts.occurred_at is not None  # validated
    row = RecordedTouchpoint(
        event_id=facts.event_id,
        customer_id=customer_id,
        visit_id=resolve_visit_id(facts, customer_id),
        occurred_at=facts.occurred_at,
        source=facts.source,
        journey_map=facts.journey_map,
        stage=facts.stage,
        site_id=facts.site_id,
        payload=touchpoint.SerializeToString(deterministic=True),
        identity=identity,
    )
    return Admitted(touchpoint, row)


def recorded_event(admitted: Admitted) -> Outgoing:
    """TouchpointRecorded for an admitted touchpoint, keyed by customer id."""
    row = admitted.row
    event = TouchpointRecorded(
        event_id=derived_id("recorded", row.event_id),
        touchpoint=admitted.touchpoint,
        customer_id=row.customer_id,
        visit_id=row.visit_id,
    )
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=RECORDED_TYPE, time=row.occurred_at
    )
    return Outgoing(CONTACTS_RECORDED, row.customer_id.encode(), event.SerializeToString(), headers)


def dead_letter(record: Incoming, violations: Sequence[Violation]) -> tuple[DeadLetter, Outgoing]:
    """The dead-letter row and record: original key, value and headers, plus why."""
    reason = "; ".join(f"{v.field}: {v.reason}" for v in violations)
    field = violations[0].field
    received_at = received_time(record)
    out = dead_letter_record(record, TOUCHPOINTS_DLQ, reason, field, received_at)
    source = record.headers.get("ce_source", b"").decode("utf-8", "replace")
    row = DeadLetter(
        record.topic, record.partition, record.offset, reason, field, source, received_at
    )
    return row, out


class RecordTouchpoints:
    """The contacts batch handler: every record is either recorded or dead-lettered."""

    def __init__(
        self, store: ContactsStore, future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE
    ) -> None:
        self.store = store
        self.future_tolerance = future_tolerance

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Store the batch in one transaction; re-emit for duplicates so a crash loses nothing."""
        admitted: list[Admitted] = []
        dead: list[DeadLetter] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            result = admit(record, self.future_tolerance)
            if isinstance(result, Admitted):
                admitted.append(result)
                outgoing.append(recorded_event(result))
            else:
                row, out = dead_letter(record, result)
                dead.append(row)
                outgoing.append(out)
        await self.store.save([a.row for a in admitted], dead)
        return outgoing
