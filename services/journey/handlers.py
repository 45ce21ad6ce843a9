"""Score moments: every recorded touchpoint becomes one MomentScored, stored once."""

from __future__ import annotations

from collections.abc import Sequence

from journey.codec import VERDICT_NAMES, moment_of, moment_scored
from journey.domain import Standard, score, standards_version
from journey.store import JourneyStore, MomentRow
from touchstone.common.decoding import (
    UnusableRecord,
    checked_time,
    dead_letter_unusable,
    parse_record,
)
from touchstone.common.prototime import to_datetime
from touchstone.common.topics import (
    JOURNEY_DLQ,
    JOURNEY_MOMENTS,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.v1.events_pb2 import MomentScored

SOURCE = "touchstone/journey"
SCORED_TYPE = "touchstone.journey.v1.MomentScored"


def decode_recorded(record: Incoming) -> TouchpointRecorded:
    """The TouchpointRecorded in a record, or UnusableRecord saying why journey cannot score it."""
    recorded = parse_record(record, TouchpointRecorded)
    if not recorded.touchpoint.event_id or not recorded.customer_id:
        raise UnusableRecord("touchpoint event id and customer id are required")
    if not recorded.touchpoint.HasField("occurred_at"):
        raise UnusableRecord("touchpoint occurred_at is required")
    checked_time(recorded.touchpoint.occurred_at, "touchpoint.occurred_at")
    return recorded


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


def scored_record(event: MomentScored, row: MomentRow) -> Outgoing:
    """The MomentScored record, keyed by customer id."""
    headers = cloudevent_headers(
        event_id=event.moment_id, source=SOURCE, type_=SCORED_TYPE, time=row.occurred_at
    )
    return Outgoing(JOURNEY_MOMENTS, event.customer_id.encode(), row.payload, headers)


class ScoreMoments:
    """The journey batch handler."""

    def __init__(self, store: JourneyStore, standards: Sequence[Standard]) -> None:
        self.store = store
        self.standards = tuple(standards)
        self.version = standards_version(self.standards)

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Score and store the batch; re-emit duplicates (same ids) so a crash loses nothing."""
        rows: list[MomentRow] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                recorded = decode_recorded(record)
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, JOURNEY_DLQ, error))
                continue
            scored = score(moment_of(recorded.touchpoint), self.standards)
            event = moment_scored(recorded, scored, self.version)
            rows.append(row_of(event))
            outgoing.append(scored_record(event, rows[-1]))
        await self.store.save_moments(rows)
        return outgoing
