"""Open recovery cases: every lost moment opens its visit's case or joins it."""

from __future__ import annotations

from collections.abc import Sequence

from notify.codec import case_event, lost_moment_of
from notify.domain import DEFAULT_POLICY, LostMoment, RecoveryPolicy, opening_for
from notify.store import NotifyStore
from touchstone.common.decoding import UnusableRecord, dead_letter_unusable, parse_record
from touchstone.common.topics import (
    NOTIFY_CASES,
    NOTIFY_DLQ,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.journey.v1.events_pb2 import MomentScored

SOURCE = "touchstone/notify"
CASE_EVENT_TYPE = "touchstone.notify.v1.CaseEvent"


class OpenRecoveryCases:
    """The notify batch handler: wins and unscored moments change nothing."""

    def __init__(self, store: NotifyStore, policy: RecoveryPolicy = DEFAULT_POLICY) -> None:
        self.store = store
        self.policy = policy

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Open or join cases in one transaction; emit each lost moment's case transition."""
        lost: list[LostMoment] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                moment = lost_moment_of(parse_record(record, MomentScored))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, NOTIFY_DLQ, error))
                continue
            if moment is not None:
                lost.append(moment)
        openings = [opening_for(m, self.policy) for m in lost]
        cases = await self.store.open_or_join(openings, lost)
        for moment in lost:
            event = case_event(moment, cases[moment.moment_id])
            headers = cloudevent_headers(
                event_id=event.event_id,
                source=SOURCE,
                type_=CASE_EVENT_TYPE,
                time=moment.occurred_at,
            )
            key = moment.customer_id.encode()
            outgoing.append(Outgoing(NOTIFY_CASES, key, event.SerializeToString(), headers))
        return outgoing
