"""What journey stores and publishes: moment rows and records, openings, completed visits."""

from __future__ import annotations

from datetime import datetime

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.codec import VERDICT_NAMES
from touchstone.journey.deadlines import Opening
from touchstone.journey.ports import Completion, MomentRow
from touchstone.journey.v1.events_pb2 import MomentScored, VisitCompleted
from touchstone.journey.visits import VisitVerdict
from touchstone.platform.messaging.topics import (
    JOURNEY_MOMENTS,
    JOURNEY_VISITS,
    Outgoing,
    cloudevent_headers,
)
from touchstone.platform.runtime.prototime import to_datetime

SOURCE = "touchstone/journey"
SCORED_TYPE = "touchstone.journey.v1.MomentScored"
VISIT_TYPE = "touchstone.journey.v1.VisitCompleted"


def row_of(event: MomentScored) -> MomentRow:
    """The stored form of a scored moment."""
    return MomentRow(
        moment_id=event.moment_id,
        source_event_id=event.source_event_id,
        customer_id=event.customer_id,
        visit_id=event.visit_id,
        site_id=event.site_id,
        journey_map=event.journey_map,
        stage=event.stage,
        occurred_at=to_datetime(event.occurred_at),
        verdict=VERDICT_NAMES[event.verdict],
        payload=event.SerializeToString(deterministic=True),
    )


def moment_record(row: MomentRow) -> Outgoing:
    """The MomentScored record of a stored moment, keyed by customer id."""
    headers = cloudevent_headers(
        event_id=row.moment_id, source=SOURCE, type_=SCORED_TYPE, time=row.occurred_at
    )
    return Outgoing(JOURNEY_MOMENTS, row.customer_id.encode(), row.payload, headers)


def opening_of(recorded: TouchpointRecorded, moment_id: str, lane: int) -> Opening:
    """The recorded touchpoint as a moment that may open deadlines."""
    tp = recorded.touchpoint
    return Opening(
        moment_id=moment_id,
        source_event_id=tp.event_id,
        customer_id=recorded.customer_id,
        visit_id=recorded.visit_id,
        site_id=tp.site_id,
        journey_map=tp.journey_map,
        stage=tp.stage,
        occurred_at=to_datetime(tp.occurred_at),
        measurements=dict(tp.measurements),
        lane=lane,
    )


def completion_of(event: VisitCompleted, verdict: VisitVerdict, done_at: datetime) -> Completion:
    """A completed visit, stored and published as VisitCompleted (keyed by customer id)."""
    payload = event.SerializeToString(deterministic=True)
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=VISIT_TYPE, time=done_at
    )
    record = Outgoing(JOURNEY_VISITS, event.customer_id.encode(), payload, headers)
    return Completion(
        event.visit_id,
        done_at,
        verdict.level,
        verdict.quadrant,
        verdict.perception,
        verdict.satisfaction,
        payload,
        record,
    )
