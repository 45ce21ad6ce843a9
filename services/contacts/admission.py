"""Admission: a touchpoint, however it arrived, becomes a row to record or the reasons it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contacts.codec import UndecodableTouchpoint, decode_touchpoint, facts_of
from contacts.domain import (
    IngestPolicy,
    Violation,
    is_late,
    normalise_identity,
    resolve_customer_id,
    resolve_visit_id,
    validate,
)
from contacts.store import RecordedTouchpoint
from touchstone.common.ids import derived_id
from touchstone.common.topics import CONTACTS_RECORDED, Outgoing, cloudevent_headers
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint

SOURCE = "touchstone/contacts"
RECORDED_TYPE = "touchstone.contacts.v1.TouchpointRecorded"


@dataclass(frozen=True)
class Admitted:
    """A touchpoint that passed validation, with what contacts resolved for it."""

    touchpoint: Touchpoint
    row: RecordedTouchpoint


def admit_touchpoint(
    touchpoint: Touchpoint, received_at: datetime, policy: IngestPolicy
) -> Admitted | list[Violation]:
    """Validate a decoded touchpoint and resolve its customer and visit."""
    facts = facts_of(touchpoint)
    violations = validate(facts, received_at, policy)
    if violations:
        return violations
    assert facts.occurred_at is not None  # validated
    customer_id = resolve_customer_id(facts)
    identity = None
    if facts.identity_kind:
        canonical = normalise_identity(facts.identity_kind, facts.identity_value)
        identity = (facts.identity_kind, canonical)
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
        late=is_late(facts.occurred_at, received_at, policy),
    )
    return Admitted(touchpoint, row)


def admit_bytes(
    value: bytes | None, content_type: str, received_at: datetime, policy: IngestPolicy
) -> Admitted | list[Violation]:
    """Decode and admit one touchpoint as it arrived on the wire."""
    try:
        touchpoint = decode_touchpoint(value, content_type)
    except UndecodableTouchpoint as error:
        return [Violation("value", str(error))]
    return admit_touchpoint(touchpoint, received_at, policy)


def recorded_event(admitted: Admitted) -> Outgoing:
    """TouchpointRecorded for an admitted touchpoint, keyed by customer id."""
    row = admitted.row
    event = TouchpointRecorded(
        event_id=derived_id("recorded", row.event_id),
        touchpoint=admitted.touchpoint,
        customer_id=row.customer_id,
        visit_id=row.visit_id,
        late=row.late,
    )
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=RECORDED_TYPE, time=row.occurred_at
    )
    return Outgoing(CONTACTS_RECORDED, row.customer_id.encode(), event.SerializeToString(), headers)
